import { useSwitchChain } from "wagmi";
import { describeError } from "../lib/errors.ts";
import { useDeployment } from "../hooks.ts";

/** A failure as a readable message with its way forward. */
export function ErrorNotice({ error, onRetry, retryLabel = "Try again" }: { error: unknown; onRetry?: () => void; retryLabel?: string }) {
  const problem = describeError(error);
  const deployment = useDeployment();
  const switchChain = useSwitchChain();
  return (
    <div className="notice notice-error" role="alert">
      <p className="notice-title">{problem.title}</p>
      <p>{problem.message}</p>
      <div className="actions">
        {problem.remedy === "switch-network" && (
          <button type="button" onClick={() => switchChain.mutate({ chainId: deployment.chain.id })}>
            Switch to {deployment.chain.name}
          </button>
        )}
        {onRetry && problem.remedy !== "none" && (
          <button type="button" className="secondary" onClick={onRetry}>
            {retryLabel}
          </button>
        )}
      </div>
    </div>
  );
}
