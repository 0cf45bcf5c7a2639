/**
 * What goes into the provider image — the one list read by the Docker-free build
 * (`npm run build:provider-image`, `build-image.ts`) and mirrored by the Dockerfile,
 * which says so in a comment. Change both together: the hash of the image is what
 * the model registry pins, so the two ways of building must agree on the contents.
 */

/** Where the app lives inside the image (the Dockerfile's WORKDIR). */
export const APP_DIR = "/app";

/** Node from the npm `node` package's binary (node_modules/node/bin/node), at Docker's node image path. */
export const NODE_PATH_IN_IMAGE = "/usr/local/bin/node";

/**
 * The engine's sources, manifests, the reference set's description and licences (its
 * photos are copied in from their folder: REFERENCE_PHOTOS_DIR_IN_IMAGE) and the
 * protocol it imports, relative to the repository root.
 */
export const APP_SOURCES: readonly string[] = [
  "provider-image/package.json",
  "provider-image/src",
  "provider-image/manifests",
  "provider-image/reference-set",
  "provider-image/protocol/package.json",
  "provider-image/protocol/src",
];

/** Paths under APP_SOURCES that only build the image and have no business inside it. */
export const BUILD_ONLY_SOURCES: readonly string[] = ["provider-image/src/image-build", "provider-image/src/bin/build-image.ts"];

/** The package whose production dependency tree is copied into /app/node_modules. */
export const ENGINE_PACKAGE_DIR = "provider-image";

/** Models: the manifests' pinned files, copied (and checked by sha256) into this folder. */
export const MODELS_DIR_IN_IMAGE = `${APP_DIR}/models`;

/** The self-test's photos, copied (and checked by sha256) into this folder. */
export const REFERENCE_PHOTOS_DIR_IN_IMAGE = `${APP_DIR}/reference-photos`;

/**
 * Files dropped from node_modules: tests and source maps are dead weight, and
 * onnxruntime-node ships binaries for every OS and CPU (~290 MB) of which Golem's
 * linux/x64 providers need one.
 */
export const DROPPED_FROM_NODE_MODULES: readonly RegExp[] = [
  /\.map$/,
  /(^|\/)(test|tests|__tests__|__mocks__)(\/|$)/,
  /\.(test|spec)\.[cm]?[jt]sx?$/,
  /(^|\/)\.bin(\/|$)/,
  /(^|\/)onnxruntime-node\/bin\/napi-v6\/(darwin|win32)(\/|$)/,
  /(^|\/)onnxruntime-node\/bin\/napi-v6\/linux\/arm64(\/|$)/,
];

/** Debian base: bookworm is the Dockerfile's node:24-bookworm-slim base, glibc for onnxruntime-node. */
export const DEBIAN_SUITE = "bookworm";
export const DEBIAN_VARIANT = "minbase";
export const DEBIAN_ARCH = "amd64";
export const DEBIAN_MIRROR_DEFAULT = "http://deb.debian.org/debian";

/** Documentation, manuals and translations are never read inside a provider VM. */
export const DPKG_PATH_EXCLUDES: readonly string[] = ["/usr/share/doc/*", "/usr/share/man/*", "/usr/share/info/*", "/usr/share/locale/*"];

/**
 * The container config written in the GVMI trailer, the same as the Dockerfile's
 * ENV / WORKDIR / VOLUME / ENTRYPOINT (ya-runtime-vm reads Env, WorkingDir, Volumes
 * and Entrypoint from it).
 */
export const IMAGE_ENV: readonly string[] = [
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  "NODE_ENV=production",
  // libuv's pool runs sharp's decoding; the engine keeps two decodes per core in flight.
  "UV_THREADPOOL_SIZE=16",
  "ONNXRUNTIME_NODE_INSTALL=skip",
  // Node keeps the code it compiled (the TypeScript it stripped included) in the VM's /tmp,
  // which lasts as long as the activity: every entry command after the first starts in
  // about half the CPU time, and the resident engine's client is most of a warm chunk's.
  "NODE_COMPILE_CACHE=/tmp/node-compile-cache",
  `ARGUS_MODELS_DIR=${MODELS_DIR_IN_IMAGE}`,
  `ARGUS_REFERENCE_PHOTOS_DIR=${REFERENCE_PHOTOS_DIR_IN_IMAGE}`,
  "ARGUS_INPUT_DIR=/golem/input",
  "ARGUS_OUTPUT_DIR=/golem/output",
];
export const IMAGE_VOLUMES: readonly string[] = ["/golem/input", "/golem/output"];
export const IMAGE_ENTRYPOINT: readonly string[] = [NODE_PATH_IN_IMAGE, `${APP_DIR}/provider-image/src/bin/entry.ts`];
