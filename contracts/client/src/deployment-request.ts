/**
 * The request for a deployment record, apart from the schema that validates it
 * (deployment-record.ts, with zod): the web UI's entry chunk starts it before the app
 * chunk, which holds the schema, has arrived.
 */
export function requestDeploymentRecord(url = "deployment.json"): Promise<Response> {
  // Never a cached copy: a redeployment changes the record behind the same URL.
  return fetch(url, { cache: "no-store" });
}
