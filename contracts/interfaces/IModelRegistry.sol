// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IModelRegistry
/// @notice The catalogue of models Argus sells predictions from. A model's fee currency
/// and task are fixed when it is registered; everything else can be updated by a model
/// admin. Deactivating a model stops new requests only: requests already paid for are
/// still fulfilled, rejected or refunded as usual.
/// @dev Who may do what. Registration is curated: only MODEL_ADMIN_ROLE registers,
/// updates and (de)activates models, and names each model's operators — the accounts
/// that run it, settle its requests and are paid its fees. Anyone can then choose a
/// model (and so its operators) to pay. Fees are paid in the currencies the admin
/// (DEFAULT_ADMIN_ROLE) allows, each with its own cap on the callback gas price.
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
    /// @param callbackGasPrice Price of one unit of callback gas, in `feeToken` units; at
    /// most the currency's `maxCallbackGasPrice`. Zero: the model takes no callback requests.
    /// @param responseWindow Seconds the oracle has to answer before the requester may
    /// reclaim: 1 to MAX_RESPONSE_WINDOW.
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

    /// @notice A registered model as the views return it. (Memory only, never stored: its
    /// field order is the ABI's, not a storage layout, whatever the packing rule says.)
    // solhint-disable-next-line gas-struct-packing
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
    /// @param modelId Its id.
    /// @param name Its manifest id.
    /// @param task What it does.
    /// @param feeToken Its fee currency (address(0): native).
    event ModelRegistered(uint32 indexed modelId, string name, TaskKind task, address indexed feeToken);

    /// @notice A model's configuration was set (on registration and on every update).
    /// @param modelId The model.
    /// @param fee Price of one prediction.
    /// @param callbackGasPrice Price of one unit of callback gas.
    /// @param responseWindow Seconds its operators have to answer.
    /// @param weightsSha256 sha256 of the ONNX weights.
    /// @param providerImageHash The Golem provider image.
    /// @param manifestCid Raw bytes of the manifest's IPFS CID.
    /// @param name Its manifest id.
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
    /// @param modelId The model.
    /// @param active Whether it takes new requests.
    event ModelActivationChanged(uint32 indexed modelId, bool active);

    /// @notice `operator` was made (or ceased to be) an operator of `modelId`.
    /// @param modelId The model.
    /// @param operator The account.
    /// @param isOperator Whether it operates the model from now on.
    event ModelOperatorChanged(uint32 indexed modelId, address indexed operator, bool isOperator);

    /// @notice A fee currency was allowed or refused, or its callback gas price cap changed.
    /// @param token The currency (address(0): native).
    /// @param allowed Whether models may be priced in it.
    /// @param maxCallbackGasPrice Cap on their callback gas price.
    event FeeTokenChanged(address indexed token, bool allowed, uint64 maxCallbackGasPrice);

    error UnknownModel(uint32 modelId);
    error InvalidModelConfig(string field);
    error ImmutableModelField(string field);
    error TooManyModels(uint32 max);
    error FeeTokenNotAllowed(address token);
    error InvalidOperator(address operator);

    /// @notice Registers a model (active from now on) run by `operator`.
    /// @dev Requires MODEL_ADMIN_ROLE. Ids are assigned sequentially from 1.
    /// Emits ModelRegistered, ModelConfigured, ModelActivationChanged(true) and
    /// ModelOperatorChanged(operator, true), in that order.
    /// Reverts AccessControlUnauthorizedAccount without the role, TooManyModels at
    /// MAX_MODELS, InvalidOperator for the zero address, FeeTokenNotAllowed for a currency
    /// the admin has not allowed, InvalidModelConfig(field) for a bad field.
    /// @param config The model's configuration.
    /// @param operator The account that settles its requests (more: `setModelOperator`).
    /// @return modelId The new model's id.
    function registerModel(ModelConfig calldata config, address operator) external returns (uint32 modelId);

    /// @notice Replaces a model's configuration. Requests already made keep the terms they paid for.
    /// @dev Requires MODEL_ADMIN_ROLE. `task` and `feeToken` must equal the registered ones.
    /// There is no delay: every request names the most it pays (`maxFee`) and the latest
    /// deadline it accepts, so no change can charge a request more or lock its fee longer
    /// than its requester agreed to.
    /// Emits ModelConfigured. Reverts AccessControlUnauthorizedAccount without the role,
    /// UnknownModel, ImmutableModelField(field), FeeTokenNotAllowed if the model's currency
    /// is no longer allowed, InvalidModelConfig(field) for a bad field.
    /// @param modelId The model to update.
    /// @param config The new configuration.
    function updateModel(uint32 modelId, ModelConfig calldata config) external;

    /// @notice Opens or closes a model for new requests.
    /// @dev Requires MODEL_ADMIN_ROLE. Emits ModelActivationChanged on every call.
    /// Reverts AccessControlUnauthorizedAccount without the role, UnknownModel.
    /// @param modelId The model.
    /// @param active Whether it accepts new requests.
    function setModelActive(uint32 modelId, bool active) external;

    /// @notice Makes `operator` an operator of `modelId`, or no longer one. Only a model's
    /// operators can fulfil or reject its requests, and each is paid the fees of what it settles.
    /// @dev Requires MODEL_ADMIN_ROLE. Emits ModelOperatorChanged on every call.
    /// Reverts AccessControlUnauthorizedAccount without the role, UnknownModel,
    /// InvalidOperator for the zero address.
    /// @param modelId The model.
    /// @param operator The account.
    /// @param isOperator Whether it operates the model from now on.
    function setModelOperator(uint32 modelId, address operator, bool isOperator) external;

    /// @notice Allows or refuses `token` (address(0): the native currency) as a fee currency,
    /// with the most a model priced in it may charge per unit of callback gas.
    /// @dev Requires DEFAULT_ADMIN_ROLE. Allow only plain ERC-20s: a fee-on-transfer token is
    /// refused at each payment, but a rebasing one would change what the escrow holds with no
    /// transfer at all, and only this list keeps it out. A refused token's models take no new
    /// requests and cannot be updated; their paid requests settle, refund and withdraw as usual.
    /// Emits FeeTokenChanged. Reverts AccessControlUnauthorizedAccount without the role.
    /// @param token The currency.
    /// @param allowed Whether models may be priced in it.
    /// @param maxCallbackGasPrice Cap on `callbackGasPrice`, in the currency's smallest unit.
    function setFeeToken(address token, bool allowed, uint64 maxCallbackGasPrice) external;

    /// @notice Whether `token` may price models, and the cap on their callback gas price.
    /// @param token The currency (address(0): native).
    /// @return allowed Whether models may be priced in it.
    /// @return maxCallbackGasPrice Cap on their callback gas price.
    function feeTokenTerms(address token) external view returns (bool allowed, uint64 maxCallbackGasPrice);

    /// @notice Whether `account` operates `modelId`.
    /// @param modelId The model.
    /// @param account The account.
    /// @return Whether it settles the model's requests.
    function isModelOperator(uint32 modelId, address account) external view returns (bool);

    /// @notice Number of models ever registered (ids run from 1 to this).
    /// @return The count.
    function modelCount() external view returns (uint32);

    /// @notice A registered model.
    /// @param modelId The model's id.
    /// @return Its configuration and state. Reverts UnknownModel for an unregistered id.
    function getModel(uint32 modelId) external view returns (Model memory);
}
