// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CatBadge} from "../examples/CatBadge.sol";
import {IPredictionEscrow} from "../interfaces/IPredictionEscrow.sol";

/// @dev A CatBadge submitter that cannot receive ETH (no receive function).
contract BadgeSubmitter {
    CatBadge public immutable badge;

    constructor(CatBadge badge_) {
        badge = badge_;
    }

    function submit(bytes calldata imageCid) external payable returns (uint256) {
        return badge.submit{value: msg.value}(imageCid, type(uint40).max);
    }

    function claim(IPredictionEscrow.RequestTerms calldata terms, address payable to) external {
        badge.claimExpired(terms, to);
    }
}
