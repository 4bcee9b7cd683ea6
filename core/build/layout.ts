/**
 * Where things are inside the build container. The builder binds one host directory (the build's work dir)
 * at `/mason`, as boulder does, so every path a recipe sees is stable whatever the host's data directory is,
 * and logs and error messages read the same on every builder.
 */
export const MASON = '/mason';

export const CONTAINER_PATHS = {
  /** `%(pkgdir)`: the recipe's own folder (stone.yaml and files beside it), bound read-only. */
  pkgdir: `${MASON}/recipe`,
  /** `%(sourcedir)`: downloaded upstreams, as fetched and verified. */
  sourcedir: `${MASON}/sourcedir`,
  /** `%(workdir)`: where upstreams are unpacked and every step starts. */
  workdir: `${MASON}/build`,
  /** `%(installroot)`: the DESTDIR that becomes the packages. */
  installroot: `${MASON}/install`,
  /** The build's dependencies, extracted from their .stone packages (a sysroot: `<deps>/usr/...`). */
  deps: `${MASON}/deps`,
  /** The generated step scripts. */
  scripts: `${MASON}/scripts`,
} as const;

/** Host-side folder names below the work dir that mirror CONTAINER_PATHS (the work dir is bound at /mason). */
export const WORK_SUBDIRS = ['recipe', 'sourcedir', 'build', 'install', 'deps', 'scripts'] as const;
