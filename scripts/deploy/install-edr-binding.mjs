#!/usr/bin/env node
// npm marks an optional dependency whose `engines` the *installing* Node fails as
// skipped. Hardhat's EDR ships its native binding as such a package (node >= 22), so
// a plain `npm ci` run by Node 20 leaves it out even though every npm script then
// runs on the Node 24 from the `node` devDependency. This puts the binding back,
// checked against the lockfile's integrity. Plain JS: it runs on whichever Node npm has.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
const edrDir = join(root, "node_modules/@nomicfoundation/edr");
if (!existsSync(edrDir)) process.exit(0); // production install without dev tools

const libc = process.report?.getReport().header.glibcVersionRuntime ? "gnu" : "musl";
const suffix =
  process.platform === "linux"
    ? `linux-${process.arch}-${libc}`
    : process.platform === "win32"
      ? `win32-${process.arch}-msvc`
      : `${process.platform}-${process.arch}`;
const name = `@nomicfoundation/edr-${suffix}`;
const target = join(root, "node_modules", name);
if (existsSync(join(target, "package.json"))) process.exit(0);

const version = JSON.parse(readFileSync(join(edrDir, "package.json"), "utf8")).version;
const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
const expected = lock.packages?.[`node_modules/${name}`]?.integrity;
if (!expected) {
  console.error(`install-edr-binding: ${name} is not in package-lock.json; cannot verify it`);
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), "edr-binding-"));
try {
  const [packed] = JSON.parse(
    execFileSync("npm", ["pack", `${name}@${version}`, "--json", "--pack-destination", scratch], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }),
  );
  const tarball = join(scratch, packed.filename);
  const [algorithm, digest] = expected.split("-");
  const actual = createHash(algorithm).update(readFileSync(tarball)).digest("base64");
  if (actual !== digest) throw new Error(`${name}@${version}: integrity mismatch with package-lock.json`);
  mkdirSync(target, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", target, "--strip-components=1"]);
  console.log(`install-edr-binding: installed ${name}@${version} (npm ran on Node ${process.version})`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
