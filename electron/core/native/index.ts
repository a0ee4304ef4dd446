/** The native module's TypeScript facade: import from here, not from the `.node` file. */
export { AshmemRegion, ASHMEM_MAX_NAME_BYTES, ASHMEM_MAX_SIZE, checkRegionName } from './ashmem.js';
export type { AshmemCreateOptions, AshmemMapOptions } from './ashmem.js';
export {
  loadNative,
  nativeModulePath,
  findProjectRoot,
  NativeUnavailableError,
  NATIVE_PATH_ENV,
} from './binding.js';
export type { DroidwayNative } from './binding.js';
export {
  closeFd,
  countOpenFds,
  DEFAULT_TIMEOUT_MS,
  inspectFd,
  mapFd,
  newSession,
  replaceStdio,
  MAX_FDS_PER_MESSAGE,
  MAX_MAPPING_LENGTH,
  MAX_MESSAGE_BYTES,
  peerCredentials,
  recvMessage,
  sendMessage,
  socketPair,
  truncateFd,
} from './fd.js';
export type { MapFdOptions, NativeDeps, RecvOptions, SendOptions } from './fd.js';
export type {
  AshmemBackend,
  FdInfo,
  FdKind,
  Mapping,
  MappingOptions,
  NativeError,
  PeerCredentials,
  ReceivedMessage,
  SealName,
} from '../../../native/index.js';
