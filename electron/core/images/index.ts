/**
 * Android images: find, describe, import, download and mount Waydroid-format images
 * (`system.img` + `vendor.img`), generate the boot properties, and check that the host can boot
 * them. The public surface for the CLI, the app and `session start`.
 *
 * `session start --image NAME|PATH` is expected to:
 * 1. `checkAndroidReadiness({ image })` then `assertAndroidReady(...)` — refuses before mounting;
 * 2. `mountAndroidImage({ systemImage, vendorImage, dataDir, runtimeDir, propsText })` with
 *    `androidPropsText(...)`, and `prepareBinder(readiness.binder, runtimeDir)`;
 * 3. start LXC with `lxc.rootfs.path = dir:<rootfs>`, init `/init`, the binder entries;
 * 4. on stop or crash: `binder.release()` and `mounted.unmountAll()` (after a host crash:
 *    `cleanupImageMounts(runtimeDir, dataDir)`).
 */
export { ImageError, type ImageErrorCode } from './image-errors.js';
export {
  androidBuildInfo,
  parseBuildProp,
  vendorBuildInfo,
  type AndroidBuildInfo,
  type BuildProps,
  type VendorBuildInfo,
} from './build-prop.js';
export {
  describeSystemImage,
  describeVendorImage,
  detectFilesystem,
  type ImageFilesystem,
  type SystemPartitionInfo,
  type VendorPartitionInfo,
} from './image-inspect.js';
export {
  defaultImageStoreRoot,
  loopBackingFiles,
  removeStoredImage,
  validateImageName,
  type ImageRecord,
} from './image-store.js';
export {
  describeImage,
  discoverImages,
  findImages,
  resolveImage,
  WAYDROID_IMAGE_DIRS,
  type AndroidImage,
  type DiscoveryOptions,
  type ImageLocation,
  type ImageSource,
} from './image-discovery.js';
export {
  importImage,
  importImageFolder,
  importImageZips,
  type ImportResult,
} from './image-import.js';
export {
  channelJsonUrls,
  DEFAULT_CHANNELS,
  parseChannel,
  validateChannelSettings,
  waydroidArch,
  type ChannelEntry,
  type ChannelSettings,
} from './ota-channel.js';
export { downloadFile, type DownloadResult, type ProgressCallback } from './download.js';
export {
  downloadImage,
  readChannels,
  type DownloadImageOptions,
  type DownloadPart,
} from './image-download.js';
export {
  androidProps,
  androidPropsText,
  CONTAINER_WAYLAND_DISPLAY,
  CONTAINER_XDG_RUNTIME_DIR,
  PROPS_GUEST_PATH,
  validatePropOverrides,
  type AndroidPropsInput,
} from './android-props.js';
export {
  cleanupImageMounts,
  imageMountPaths,
  mountAndroidImage,
  type MountedImage,
  type MountImageOptions,
  type UnmountReport,
} from './image-mount.js';
export {
  assertAndroidReady,
  checkAndroidReadiness,
  prepareBinder,
  type AndroidReadiness,
  type BinderInstance,
  type BinderSource,
  type MissingPiece,
} from './android-readiness.js';
