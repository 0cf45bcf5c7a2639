/**
 * `argus models list`: the on-chain registry.
 * `argus models add <onnx> --manifest <file>`: checks the weights against the manifest's
 * sha256, runs the model's self-test on the bundled reference photos (refusing it below
 * the manifest's threshold, and recording its score in the manifest), pins the
 * manifest's canonical JSON to IPFS as a raw block (its CID is what the registry
 * records, checkable by hashing), and registers the model — the same model
 * configuration `npm start` and scripts/deploy/register-models.ts write.
 */
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { type Hex, keccak256, parseEventLogs, toHex, zeroAddress } from "viem";
import { manifestBytes, type ModelManifest, parseManifest } from "@argus/protocol/manifest";
import { readImageRecord, verifyImageRecord } from "@argus/provider-image/build-output";
import { sha256OfFile } from "@argus/provider-image/sha256-file";
import { describeModelsDir } from "@argus/provider-image/models-dir";
import { DEFAULT_MODEL_TERMS, isModelOperator, modelConfig, providerImageHashWord } from "@argus/escrow/model-registration";
import { predictionEscrowAbi } from "@argus/escrow/abi";
import { listModels } from "@argus/escrow/escrow-reads";
import { pinResult } from "@argus/ipfs-node/client";
import { noPositionals, parseAddress, parseAmount, parseCommand, parseSeconds, UsageError } from "../args.ts";
import { type Command, EXIT } from "../command.ts";
import { engineFilesOf } from "../config.ts";
import { openContext } from "../context.ts";
import { formatAmount, formatDuration } from "@argus/escrow/format";
import { currencyOf } from "../escrow-reads.ts";
import { Output } from "../output.ts";
import { SelfTestFailedError } from "@argus/provider-image/self-test";
import { checkModelWithSettings, recordScore } from "./models-check.ts";

const LIST_USAGE = `usage: argus models list [--json] [--deployment <file>]

Lists the escrow's model registry: id, name, task, fee, response window, whether it
takes requests, and the CID of its manifest.`;

export const modelsListCommand: Command = {
  usage: LIST_USAGE,
  async run(argv, io, settings) {
    const { values, positionals } = parseCommand(argv, {});
    noPositionals(positionals);
    const out = new Output(io, values.json);
    const ctx = await openContext(values, settings);
    const models = await listModels(ctx);
    if (out.json) {
      out.data(models);
      return EXIT.ok;
    }
    if (models.length === 0) out.text(`no models registered in ${ctx.escrow}`);
    for (const model of models) {
      const fee = formatAmount(model.fee, await currencyOf(ctx, model.feeToken));
      out.text(
        `${String(model.id).padStart(3)}  ${model.name.padEnd(24)} ${model.task.padEnd(14)} ${fee.padEnd(14)} ${formatDuration(model.responseWindow).padEnd(7)} ${model.active ? "active  " : "inactive"}  ${model.manifestCid}`,
      );
    }
    return EXIT.ok;
  },
};

const ADD_USAGE = `usage: argus models add <model.onnx> --manifest <file> --operator <address> [--fee <amount>] [--fee-token <address>]
         [--callback-gas-price <wei>] [--response-window <duration>]
         [--provider-image <image.json> | --provider-image-hash <hex>] [--update] [--json]

Registers a model: the ONNX file must hash to the manifest's weights.sha256 and the
model must pass its self-test on the bundled reference photos (\`argus models check\`;
its labels file beside the ONNX file or in ARGUS_MODELS_DIR); the score is recorded in
the manifest file, whose canonical JSON is pinned to IPFS and its CID recorded
on-chain. Needs the signing account to hold MODEL_ADMIN_ROLE (on the local stack:
Hardhat account 0), and the fee currency to be one the escrow's admin allows.

  --manifest <file>            the model manifest (\`npm run models:manifest\` writes a skeleton)
  --operator <address>         the oracle account that settles its requests and is paid
                               for them (on the local stack: Hardhat account 1); with
                               --update, added as one more operator
  --fee <amount>               fee per prediction in the fee currency (default 0.001)
  --fee-token <address>        ERC-20 fee currency (default: the native currency)
  --callback-gas-price <wei>   fee units charged per unit of callback gas (default 1 gwei)
  --response-window <duration> how long the oracle has to answer (default 1h)
  --provider-image <path>      the Golem image from its build: image.json of \`npm run build:provider-image\`
                               (or its folder, provider-image/dist); its sha3-224 is registered once the
                               .gvmi beside it is checked to hash to it
  --provider-image-hash <hex>  the Golem image's hash, given by hand (gvmkit-build prints it) (default: none)
  --update                     update the model if one with this name is registered`;

const MODEL_ADMIN_ROLE = keccak256(toHex("MODEL_ADMIN_ROLE"));

export const modelsAddCommand: Command = {
  usage: ADD_USAGE,
  async run(argv, io, settings) {
    const { values, positionals } = parseCommand(argv, {
      manifest: { type: "string" },
      fee: { type: "string" },
      "fee-token": { type: "string" },
      "callback-gas-price": { type: "string" },
      "response-window": { type: "string" },
      "provider-image-hash": { type: "string" },
      operator: { type: "string" },
      "provider-image": { type: "string" },
      update: { type: "boolean", default: false },
    });
    const [onnxPath, ...extra] = positionals;
    if (onnxPath === undefined) throw new UsageError("give the model's ONNX file");
    noPositionals(extra);
    if (values.manifest === undefined) throw new UsageError("--manifest is required");
    const operator = values.operator === undefined ? undefined : parseAddress(values.operator, "--operator");
    const feeToken = values["fee-token"] === undefined ? DEFAULT_MODEL_TERMS.feeToken : parseAddress(values["fee-token"], "--fee-token");
    const responseWindow = parseSeconds(values["response-window"], "--response-window", DEFAULT_MODEL_TERMS.responseWindowSeconds);
    if (responseWindow < 60) throw new UsageError("--response-window must be at least 60 s");
    const callbackGasPrice =
      values["callback-gas-price"] === undefined
        ? DEFAULT_MODEL_TERMS.callbackGasPrice
        : BigInt(parseAmount(values["callback-gas-price"], 0, "--callback-gas-price"));
    if (values["provider-image"] !== undefined && values["provider-image-hash"] !== undefined)
      throw new UsageError("give the image as --provider-image or as --provider-image-hash, not both");
    let manifest = await readManifest(values.manifest);

    const out = new Output(io, values.json);
    let providerImageHash = imageHash(values["provider-image-hash"]);
    if (values["provider-image"] !== undefined) {
      out.spin(`checking the image of ${values["provider-image"]}…`);
      const image = await readImageRecord(values["provider-image"]);
      await verifyImageRecord(image);
      out.done(`provider image ${image.hash} (${image.imagePath}, ${(image.sizeBytes / 1e6).toFixed(1)} MB)`);
      providerImageHash = providerImageHashWord(image.hash);
    }
    const ctx = await openContext(values, settings);
    const currency = await currencyOf(ctx, feeToken as Hex);
    const fee =
      values.fee === undefined
        ? feeToken === zeroAddress
          ? DEFAULT_MODEL_TERMS.fee
          : 10n ** BigInt(currency.decimals)
        : parseAmount(values.fee, currency.decimals, "--fee");

    out.spin(`hashing ${basename(onnxPath)}…`);
    const digest = (
      await sha256OfFile(onnxPath).catch((error: Error) => {
        throw new Error(`cannot read ${onnxPath}: ${error.message}`);
      })
    ).toString("hex");
    out.done();
    if (digest !== manifest.weights.sha256)
      throw new Error(`${onnxPath} has sha256 ${digest}, but the manifest pins ${manifest.weights.sha256}`);
    if (basename(onnxPath) !== manifest.weights.file)
      out.warn(`the manifest names the weights ${manifest.weights.file}: the oracle's models folder must hold the file under that name`);

    out.spin(`running ${manifest.id} on the reference photos…`);
    const selfTest = await checkModelWithSettings(manifest, settings, onnxPath);
    out.done();
    if (!selfTest.passed) throw new SelfTestFailedError(selfTest);
    // What is pinned records the score it measured (the web UI shows it), and so does the file.
    manifest = parseManifest(
      { ...manifest, selfTest: { ...manifest.selfTest, measured: { correct: selfTest.correct, total: selfTest.total } } },
      values.manifest,
    );
    const manifestFile = values.manifest;
    await recordScore(manifestFile, selfTest).then(
      (changed) => changed && out.note(`recorded the self-test score ${selfTest.correct}/${selfTest.total} in ${manifestFile}`),
      (error: Error) => out.warn(`could not record the self-test score in ${manifestFile}: ${error.message}`),
    );

    const wallet = await ctx.wallet();
    const admin = await ctx.client.readContract({
      address: ctx.escrow,
      abi: predictionEscrowAbi,
      functionName: "hasRole",
      args: [MODEL_ADMIN_ROLE, wallet.account.address],
    });
    if (!admin)
      throw new Error(`${wallet.account.address} does not hold MODEL_ADMIN_ROLE on ${ctx.escrow}: sign with the model admin's key`);

    out.spin(`pinning the manifest to ${ctx.ipfsApiUrl}…`);
    const manifestCid = await pinResult(ctx.ipfs(), manifestBytes(manifest));
    out.done(`pinned the manifest as ${manifestCid}`);

    const config = modelConfig(
      manifest,
      { feeToken: feeToken as Hex, fee, callbackGasPrice, responseWindowSeconds: responseWindow, providerImageHash },
      manifestCid.bytes,
    );
    const existing = (await listModels(ctx)).find((model) => model.name === manifest.id);
    if (existing && !values.update)
      throw new Error(`a model named ${manifest.id} is registered already (#${existing.id}); --update changes it`);
    if (!existing && operator === undefined)
      throw new UsageError("--operator is required to register a model: the oracle account that will settle its requests");
    out.spin(`${existing ? "updating" : "registering"} ${manifest.id}…`);
    const hash = existing
      ? await wallet.writeContract({
          address: ctx.escrow,
          abi: predictionEscrowAbi,
          functionName: "updateModel",
          args: [existing.id, config],
        })
      : await wallet.writeContract({
          address: ctx.escrow,
          abi: predictionEscrowAbi,
          functionName: "registerModel",
          args: [config, operator as Hex],
        });
    const receipt = await ctx.client.waitForTransactionReceipt({ hash });
    out.done();
    if (receipt.status !== "success") throw new Error(`the registration ${hash} reverted`);
    const modelId =
      existing?.id ?? parseEventLogs({ abi: predictionEscrowAbi, logs: receipt.logs, eventName: "ModelRegistered" })[0]?.args.modelId;
    if (modelId === undefined) throw new Error(`the transaction ${hash} registered no model`);
    if (existing && !existing.active) {
      const activation = await wallet.writeContract({
        address: ctx.escrow,
        abi: predictionEscrowAbi,
        functionName: "setModelActive",
        args: [existing.id, true],
      });
      await ctx.client.waitForTransactionReceipt({ hash: activation });
    }
    if (existing && operator !== undefined && !(await isModelOperator(ctx, existing.id, operator as Hex))) {
      const added = await wallet.writeContract({
        address: ctx.escrow,
        abi: predictionEscrowAbi,
        functionName: "setModelOperator",
        args: [existing.id, operator as Hex, true],
      });
      await ctx.client.waitForTransactionReceipt({ hash: added });
    }

    const { modelsDir } = engineFilesOf(settings);
    if (out.json) {
      out.data({
        modelId,
        name: manifest.id,
        action: existing ? "updated" : "registered",
        manifestCid: manifestCid.toString(),
        weightsSha256: digest,
        selfTest: { correct: selfTest.correct, total: selfTest.total, minimumCorrect: selfTest.minimumCorrect },
        providerImageHash,
        fee,
        feeToken,
        transactionHash: hash,
      });
    } else {
      out.text(
        `${existing ? "updated" : "registered"} model ${modelId} ${manifest.id} (manifest ${manifestCid}, fee ${formatAmount(fee, currency)}, ` +
          `self-test ${selfTest.correct}/${selfTest.total}, tx ${hash})`,
      );
      out.note(
        `the oracle runs it once its executor finds ${manifest.weights.file} and ${manifest.labels.file} in its models folder ` +
          `(${describeModelsDir(modelsDir)}) and ${manifest.id}.json in a folder listed in ARGUS_MANIFESTS_DIR`,
      );
    }
    return EXIT.ok;
  },
};

async function readManifest(path: string): Promise<ModelManifest> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new UsageError(`--manifest ${path}: ${(error as Error).message}`);
  }
  return parseManifest(json, path);
}

function imageHash(hex: string | undefined): Hex {
  if (hex === undefined) return DEFAULT_MODEL_TERMS.providerImageHash;
  try {
    return providerImageHashWord(hex);
  } catch {
    throw new UsageError("--provider-image-hash must be at most 32 bytes of hex");
  }
}
