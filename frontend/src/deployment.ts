/**
 * The deployment record (chain, contracts, IPFS endpoints) the app fetches at run time
 * from `deployment.json` next to index.html. Its schema lives once, in
 * `@argus/oracle-requestor/deployment-record`, shared with the oracle, the `argus` CLI
 * and `npm start`, which writes it.
 */
export {
  DEFAULT_LOG_RANGE_BLOCKS,
  DEPLOYMENT_SCHEMA_VERSION,
  type Deployment,
  DeploymentError,
  type DeploymentInput,
  DeploymentSchema,
  loadDeployment,
  parseDeployment,
} from "@argus/escrow/deployment-record";
