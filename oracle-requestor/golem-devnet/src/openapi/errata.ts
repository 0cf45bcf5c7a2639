/**
 * Where yagna's real messages differ from ya-client's spec, the devnet sends what yagna
 * sends and validates against the spec corrected here, one patch per difference, each
 * naming the yagna source that shows the real shape. Anything not listed is checked as
 * the spec says.
 */

type Node = Record<string, unknown>;

interface Erratum {
  file: string;
  schema: string;
  why: string;
  patch(schema: Node): void;
}

export const ERRATA: readonly Erratum[] = [
  {
    file: "payment-api",
    schema: "DebitNote",
    why:
      "usageCounterVector is the usage vector, a JSON array: ya-provider sends `json!(cost_info.usage)` with usage a Vec<f64> " +
      "(agent/provider/src/payments/payments.rs, send_debit_note), while the spec says `type: object`",
    patch(schema) {
      const properties = schema.properties as Node;
      properties.usageCounterVector = { type: ["array", "object"], items: { type: "number" } };
    },
  },
];

/**
 * Statuses yagna answers that the spec does not document for an operation; each is
 * answered with yagna's ErrorMessage body.
 */
export interface StatusErratum {
  file: string;
  operationIds: readonly string[];
  status: number;
  why: string;
}

export const STATUS_ERRATA: readonly StatusErratum[] = [
  {
    file: "payment-api",
    operationIds: ["getAllocation", "acceptDebitNote", "acceptInvoice"],
    status: 410,
    why:
      "a released (or expired, hence released) allocation is Gone: core/payment/src/api/allocations/mod.rs get_allocation, " +
      "api/debit_notes.rs accept_debit_note and api/invoices.rs accept_invoice answer `response::gone` for AllocationStatus::Gone " +
      "(since yagna commit 6a95e456f, 2022); the spec lists 404 only",
  },
  {
    file: "payment-api",
    operationIds: ["rejectDebitNote"],
    status: 501,
    why:
      "core/payment/src/api/debit_notes.rs reject_debit_note is `response::not_implemented()` (golemfactory/yagna#1249; the spec " +
      'says "WARNING: Operation not implemented" but lists no 501)',
  },
  {
    file: "activity-api",
    operationIds: ["createActivity", "exec", "getExecBatchResults", "DestroyActivity", "GetActivityState", "GetActivityUsage"],
    status: 408,
    why:
      "core/activity/src/error.rs maps Error::Timeout to 408 RequestTimeout: a call whose provider does not answer within its " +
      "timeout, and getExecBatchResults with commandIndex when that command has not finished (exe-unit/src/handlers/rpc.rs)",
  },
];

export function applyErrata(file: string, schemas: Record<string, Node>): void {
  for (const erratum of ERRATA) {
    if (erratum.file !== file) continue;
    const schema = schemas[erratum.schema];
    if (!schema) throw new Error(`erratum for ${file} ${erratum.schema}: no such schema in the vendored spec`);
    erratum.patch(schema);
  }
}
