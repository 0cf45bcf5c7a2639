// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";

/// @title ModelRegistry
/// @notice The model catalogue half of the escrow: model admins register, update and
/// (de)activate models and name their operators; the admin lists the fee currencies.
/// The request path reads one storage slot per model.
/// @dev The admin role moves only by OpenZeppelin's two-step, delayed transfer
/// (`AccessControlDefaultAdminRules`): a mistyped or stolen-key grant cannot hand the
/// escrow over at once.
abstract contract ModelRegistry is IModelRegistry, AccessControlDefaultAdminRules {
    /// @notice Registers and updates models and names their operators.
    bytes32 public constant MODEL_ADMIN_ROLE = keccak256("MODEL_ADMIN_ROLE");

    /// @notice Most models a registry holds: pausing writes every model's slot, so this
    /// bounds the gas of `pause`.
    uint32 public constant MAX_MODELS = 1_000;

    /// @notice Longest response window a model may have: the longest a request's fee can
    /// be locked before its requester may reclaim it.
    uint32 public constant MAX_RESPONSE_WINDOW = 7 days;

    /// @dev Everything a request reads, packed in one slot (224 bits). `paused` mirrors
    /// the contract-wide pause so that requests need no second storage read. (The packing
    /// rule misjudges it: 96 + 64 + 32 + 4 × 8 bits fill one slot.)
    // solhint-disable-next-line gas-struct-packing
    struct ModelTerms {
        uint96 fee;
        uint64 callbackGasPrice;
        uint32 responseWindow;
        TaskKind task;
        bool active;
        bool tokenPriced;
        bool paused;
    }

    /// @dev Read by views, token payments and the settlement of each batch's model runs.
    struct ModelInfo {
        address feeToken;
        bytes32 weightsSha256;
        bytes32 providerImageHash;
        string name;
        bytes manifestCid;
    }

    /// @dev A fee currency's listing (one slot).
    struct FeeTokenTerms {
        bool allowed;
        uint64 maxCallbackGasPrice;
    }

    uint32 private _modelCount;
    mapping(uint32 modelId => ModelTerms) internal _terms;
    mapping(uint32 modelId => ModelInfo) internal _info;
    mapping(uint32 modelId => mapping(address account => bool)) internal _operators;
    mapping(address token => FeeTokenTerms) internal _feeTokens;

    /// @notice Sets up the admin role, moved only by a two-step transfer.
    /// @param adminDelay Seconds a transfer of the admin role waits between its two steps.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants the model-admin role, lists currencies).
    constructor(uint48 adminDelay, address admin) AccessControlDefaultAdminRules(adminDelay, admin) {}

    /// @inheritdoc IModelRegistry
    function registerModel(ModelConfig calldata config, address operator)
        external
        onlyRole(MODEL_ADMIN_ROLE)
        returns (uint32 modelId)
    {
        if (_modelCount == MAX_MODELS) revert TooManyModels(MAX_MODELS);
        if (operator == address(0)) revert InvalidOperator(operator);
        modelId = ++_modelCount;
        _terms[modelId].paused = _registryPaused();
        _info[modelId].feeToken = config.feeToken;
        _terms[modelId].task = config.task;
        _terms[modelId].tokenPriced = config.feeToken != address(0);
        _terms[modelId].active = true;
        emit ModelRegistered(modelId, config.name, config.task, config.feeToken);
        _configure(modelId, config);
        emit ModelActivationChanged(modelId, true);
        _setOperator(modelId, operator, true);
    }

    /// @inheritdoc IModelRegistry
    function updateModel(uint32 modelId, ModelConfig calldata config) external onlyRole(MODEL_ADMIN_ROLE) {
        _requireRegistered(modelId);
        if (config.task != _terms[modelId].task) revert ImmutableModelField("task");
        if (config.feeToken != _info[modelId].feeToken) revert ImmutableModelField("feeToken");
        _configure(modelId, config);
    }

    /// @inheritdoc IModelRegistry
    function setModelActive(uint32 modelId, bool active) external onlyRole(MODEL_ADMIN_ROLE) {
        _requireRegistered(modelId);
        _terms[modelId].active = active;
        emit ModelActivationChanged(modelId, active);
    }

    /// @inheritdoc IModelRegistry
    function setModelOperator(uint32 modelId, address operator, bool isOperator)
        external
        onlyRole(MODEL_ADMIN_ROLE)
    {
        _requireRegistered(modelId);
        if (operator == address(0)) revert InvalidOperator(operator);
        _setOperator(modelId, operator, isOperator);
    }

    /// @inheritdoc IModelRegistry
    function setFeeToken(address token, bool allowed, uint64 maxCallbackGasPrice)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        _feeTokens[token] = FeeTokenTerms(allowed, maxCallbackGasPrice);
        emit FeeTokenChanged(token, allowed, maxCallbackGasPrice);
    }

    /// @inheritdoc IModelRegistry
    function feeTokenTerms(address token) external view returns (bool allowed, uint64 maxCallbackGasPrice) {
        FeeTokenTerms memory terms = _feeTokens[token];
        return (terms.allowed, terms.maxCallbackGasPrice);
    }

    /// @inheritdoc IModelRegistry
    function isModelOperator(uint32 modelId, address account) external view returns (bool) {
        return _operators[modelId][account];
    }

    /// @inheritdoc IModelRegistry
    function modelCount() external view returns (uint32) {
        return _modelCount;
    }

    /// @inheritdoc IModelRegistry
    function getModel(uint32 modelId) external view returns (Model memory model) {
        _requireRegistered(modelId);
        ModelTerms memory terms = _terms[modelId];
        ModelInfo storage info = _info[modelId];
        model = Model({
            id: modelId,
            active: terms.active,
            name: info.name,
            task: terms.task,
            feeToken: info.feeToken,
            fee: terms.fee,
            callbackGasPrice: terms.callbackGasPrice,
            responseWindow: terms.responseWindow,
            weightsSha256: info.weightsSha256,
            providerImageHash: info.providerImageHash,
            manifestCid: info.manifestCid
        });
    }

    function _configure(uint32 modelId, ModelConfig calldata config) private {
        FeeTokenTerms memory currency = _feeTokens[config.feeToken];
        if (!currency.allowed) revert FeeTokenNotAllowed(config.feeToken);
        if (bytes(config.name).length == 0 || bytes(config.name).length > 64) revert InvalidModelConfig("name");
        if (config.responseWindow == 0 || config.responseWindow > MAX_RESPONSE_WINDOW) {
            revert InvalidModelConfig("responseWindow");
        }
        if (config.callbackGasPrice > currency.maxCallbackGasPrice) revert InvalidModelConfig("callbackGasPrice");
        if (config.weightsSha256 == bytes32(0)) revert InvalidModelConfig("weightsSha256");
        if (config.manifestCid.length == 0 || config.manifestCid.length > 128) revert InvalidModelConfig("manifestCid");

        ModelTerms storage terms = _terms[modelId];
        terms.fee = config.fee;
        terms.callbackGasPrice = config.callbackGasPrice;
        terms.responseWindow = config.responseWindow;

        ModelInfo storage info = _info[modelId];
        info.name = config.name;
        info.weightsSha256 = config.weightsSha256;
        info.providerImageHash = config.providerImageHash;
        info.manifestCid = config.manifestCid;

        emit ModelConfigured(
            modelId,
            config.fee,
            config.callbackGasPrice,
            config.responseWindow,
            config.weightsSha256,
            config.providerImageHash,
            config.manifestCid,
            config.name
        );
    }

    function _setOperator(uint32 modelId, address operator, bool isOperator) private {
        _operators[modelId][operator] = isOperator;
        emit ModelOperatorChanged(modelId, operator, isOperator);
    }

    /// @dev Writes the contract-wide pause flag into every model's terms.
    function _setModelsPaused(bool paused) internal {
        uint32 count = _modelCount;
        for (uint32 modelId = 1; modelId <= count; ++modelId) {
            _terms[modelId].paused = paused;
        }
    }

    /// @dev Whether the contract is paused; new models start in that state.
    function _registryPaused() internal view virtual returns (bool);

    function _requireRegistered(uint32 modelId) internal view {
        if (modelId == 0 || modelId > _modelCount) revert UnknownModel(modelId);
    }
}
