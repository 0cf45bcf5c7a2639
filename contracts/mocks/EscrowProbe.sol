// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IPredictionEscrow} from "../interfaces/IPredictionEscrow.sol";

/// @dev Reads everything the property test's invariant needs in one `eth_call`.
contract EscrowProbe {
    struct State {
        uint256 nativeHeld;
        uint256 tokenHeld;
        uint256[] nativeCredits;
        uint256[] tokenCredits;
        bool[] pending;
        IPredictionEscrow.RequestStatus[] status;
    }

    function read(IPredictionEscrow escrow, IERC20 token, address[] calldata accounts, uint256[] calldata requestIds)
        external
        view
        returns (State memory state)
    {
        state.nativeHeld = address(escrow).balance;
        state.tokenHeld = token.balanceOf(address(escrow));
        state.nativeCredits = new uint256[](accounts.length);
        state.tokenCredits = new uint256[](accounts.length);
        for (uint256 i; i < accounts.length; ++i) {
            state.nativeCredits[i] = escrow.balanceOf(address(0), accounts[i]);
            state.tokenCredits[i] = escrow.balanceOf(address(token), accounts[i]);
        }
        state.pending = new bool[](requestIds.length);
        state.status = new IPredictionEscrow.RequestStatus[](requestIds.length);
        for (uint256 i; i < requestIds.length; ++i) {
            state.pending[i] = escrow.isPending(requestIds[i]);
            state.status[i] = escrow.statusOf(requestIds[i]);
        }
    }
}
