// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IModelRegistry
/// @notice The catalogue of models Argus sells predictions from. A model's fee currency
/// and task are fixed when it is registered; everything else can be updated by a model
/// admin. Deactivating a model stops new requests only: requests already paid for are
/// still fulfilled, rejected or refunded as usual.
interface IModelRegistry {
    enum TaskKind {
        Classification,
        Detection
    }

    /// @notice What a model admin supplies to register or update a model.
    /// @param name Human-readable id, the manifest's model id (e.g. "mobilenetv2-12-int8").
    /// @param task What the model does; fixed at registration.
    /// @param feeToken ERC-20 the fee is paid in, or address(0) for the native currency;
    /// fixed at registration.
    /// @param fee Price of one prediction, in `feeToken` units (wei for native).
    /// @param callbackGasPrice Price of one unit of callback gas, in `feeToken` units.
    /// @param responseWindow Seconds the oracle has to answer before the requester may reclaim.
    /// @param weightsSha256 sha256 of the ONNX weights file.
    /// @param providerImageHash Hash of the Golem provider image the model runs in.
    /// @param manifestCid Raw bytes of the IPFS CID of the model manifest.
    struct ModelConfig {
        string name;
        TaskKind task;
        address feeToken;
        uint96 fee;
        uint64 callbackGasPrice;
        uint32 responseWindow;
        bytes32 weightsSha256;
        bytes32 providerImageHash;
        bytes manifestCid;
    }

    /// @notice A registered model as the views return it.
    struct Model {
        uint32 id;
        bool active;
        string name;
        TaskKind task;
        address feeToken;
        uint96 fee;
        uint64 callbackGasPrice;
        uint32 responseWindow;
        bytes32 weightsSha256;
        bytes32 providerImageHash;
        bytes manifestCid;
    }

    /// @notice A model was registered; it starts active.
    event ModelRegistered(uint32 indexed modelId, string name, TaskKind task, address indexed feeToken);

    /// @notice A model's configuration was set (on registration and on every update).
    event ModelConfigured(
        uint32 indexed modelId,
        uint96 fee,
        uint64 callbackGasPrice,
        uint32 responseWindow,
        bytes32 weightsSha256,
        bytes32 providerImageHash,
        bytes manifestCid,
        string name
    );

    /// @notice A model was activated or deactivated.
    event ModelActivationChanged(uint32 indexed modelId, bool active);

    error UnknownModel(uint32 modelId);
    error InvalidModelConfig(string field);
    error ImmutableModelField(string field);
    error TooManyModels(uint32 max);

    /// @notice Registers a model (active from now on).
    /// @dev Requires MODEL_ADMIN_ROLE. Ids are assigned sequentially from 1.
    /// @param config The model's configuration.
    /// @return modelId The new model's id.
    function registerModel(ModelConfig calldata config) external returns (uint32 modelId);

    /// @notice Replaces a model's configuration. Requests already made keep the terms they paid for.
    /// @dev Requires MODEL_ADMIN_ROLE. `task` and `feeToken` must equal the registered ones.
    /// @param modelId The model to update.
    /// @param config The new configuration.
    function updateModel(uint32 modelId, ModelConfig calldata config) external;

    /// @notice Opens or closes a model for new requests.
    /// @dev Requires MODEL_ADMIN_ROLE.
    /// @param modelId The model.
    /// @param active Whether it accepts new requests.
    function setModelActive(uint32 modelId, bool active) external;

    /// @notice Number of models ever registered (ids run from 1 to this).
    function modelCount() external view returns (uint32);

    /// @notice A registered model.
    /// @param modelId The model's id.
    function getModel(uint32 modelId) external view returns (Model memory);
}
