// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

/// @dev Registers many copies of one model in a transaction (needs MODEL_ADMIN_ROLE):
/// reaching the registry's model cap one transaction at a time is slow.
contract ModelFiller {
    function fill(
        IModelRegistry registry,
        IModelRegistry.ModelConfig calldata config,
        address operator,
        uint256 count
    ) external {
        for (uint256 i; i < count; ++i) {
            registry.registerModel(config, operator);
        }
    }
}
