/** The OpenAPI 3.1 description served at /v1/openapi.json. */
const error = { $ref: "#/components/schemas/Error" };
const json = (schema: object, description: string) => ({ description, content: { "application/json": { schema } } });
const upload = (withModel: boolean) => ({
  required: true,
  content: {
    "multipart/form-data": {
      schema: {
        type: "object",
        required: withModel ? ["image", "model"] : ["image"],
        properties: {
          image: {
            type: "string",
            format: "binary",
            description: "JPEG, PNG, WebP, GIF or AVIF; at most the image cap (2 MiB by default)",
          },
          ...(withModel
            ? {
                model: { type: "string", description: "model id or name (GET /v1/models); only token-priced models are payable over HTTP" },
              }
            : {}),
        },
      },
    },
  },
});
const paymentHeaders = [
  {
    name: "PAYMENT-SIGNATURE",
    in: "header",
    required: false,
    schema: { type: "string" },
    description: "x402 v2 PaymentPayload, base64 JSON (X-PAYMENT is read too)",
  },
];
const paidResponses = {
  "200": json({ $ref: "#/components/schemas/Accepted" }, "paid: the request is on-chain (PAYMENT-RESPONSE header: x402 settlement)"),
  "400": json(error, "bad upload or payment (malformed, redirected, wrong amount, bad signature, expired)"),
  "402": json(
    { type: "object", description: "x402 v2 PaymentRequired (also in the PAYMENT-REQUIRED header)" },
    "payment required: the x402 terms for this image and model",
  ),
  "404": json(error, "unknown model"),
  "409": json(error, "replayed authorization, or the model's terms changed"),
  "413": json(error, "image over the cap"),
  "415": json(error, "not multipart/form-data"),
  "429": json(error, "rate limited (Retry-After)"),
  "503": json(error, "busy or relayer unfunded (Retry-After)"),
};

export function openApiDocument(serverUrl: string) {
  return {
    openapi: "3.1.0",
    info: {
      title: "Argus gateway",
      version: "1",
      description:
        "Pay for a verifiable image prediction over HTTP with x402 (scheme exact, an EIP-3009 ReceiveWithAuthorization to the escrow whose nonce is the request's EIP-712 struct hash: see extra.request and extra.nonce of the 402). The gateway relays the authorization and pays the gas; it never holds the payer's tokens.",
    },
    servers: [{ url: serverUrl }],
    paths: {
      "/v1/predictions": {
        post: {
          summary: "Request a prediction (402 flow)",
          parameters: paymentHeaders,
          requestBody: upload(true),
          responses: paidResponses,
        },
      },
      "/v1/predictions/{requestId}": {
        get: {
          summary: "A request's status and, once fulfilled, its result verified against the on-chain digest",
          parameters: [{ name: "requestId", in: "path", required: true, schema: { type: "string" } }],
          responses: {
            "200": json({ $ref: "#/components/schemas/Status" }, "status"),
            "400": json(error, "bad id"),
            "404": json(error, "no such request"),
          },
        },
      },
      "/v1/models": { get: { summary: "The model registry with fees", responses: { "200": json({ type: "object" }, "models") } } },
      "/requestPrediction/{model}": {
        post: {
          summary: "The original interface: request a prediction (same 402 flow)",
          parameters: [{ name: "model", in: "path", required: true, schema: { type: "string" } }, ...paymentHeaders],
          requestBody: upload(false),
          responses: paidResponses,
        },
      },
      "/readPrediction/{requestId}": {
        post: {
          summary: "The original interface: null until settled, then the predicted classes (labels, best first)",
          parameters: [{ name: "requestId", in: "path", required: true, schema: { type: "string" } }],
          responses: {
            "200": json({ oneOf: [{ type: "null" }, { type: "array", items: { type: "string" } }] }, "null, or the classes"),
            "410": json(error, "rejected (refunded) or expired"),
          },
        },
      },
    },
    components: {
      schemas: {
        Error: { type: "object", required: ["error", "message"], properties: { error: { type: "string" }, message: { type: "string" } } },
        Accepted: {
          type: "object",
          required: ["requestId", "statusUrl"],
          properties: {
            requestId: { type: "string" },
            statusUrl: { type: "string" },
            transaction: { type: "string" },
            payer: { type: "string" },
          },
        },
        Status: {
          type: "object",
          required: ["requestId", "status"],
          properties: {
            requestId: { type: "string" },
            status: { enum: ["pending", "overdue", "fulfilled", "rejected", "expired"] },
            verified: { type: "boolean" },
            resultCid: { type: "string" },
            resultDigest: { type: "string" },
            result: { type: "object", description: "the Argus result document (top5 or detections)" },
            rejectReason: { type: "string" },
          },
        },
      },
    },
  };
}
