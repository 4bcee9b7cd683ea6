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
  /** The generated step scripts: a host-owned folder bound read-only (the container never writes what the host reads). */
  scripts: `${MASON}/scripts`,
  /** Where the step's root preamble marks that the container came up; writable by the container's root only. */
  status: `${MASON}/status`,
} as const;

/**
 * Host-side folder names below the work dir that mirror CONTAINER_PATHS (the work dir is bound at /mason). The
 * work dir itself and every folder but WRITABLE_SUBDIRS stay owned by the host's root: the build user cannot
 * replace a mount point or plant a link where the host will look.
 */
export const WORK_SUBDIRS = ['recipe', 'sourcedir', 'build', 'install', 'deps', 'scripts', 'status'] as const;

/** The folders the build user may write: %(workdir) and %(installroot). */
export const WRITABLE_SUBDIRS = ['build', 'install'] as const;

/**
 * The unprivileged user the steps run as inside the container (its root only runs summit's preamble). With the
 * container's user namespace starting at host uid `base`, its files on the host belong to `base + uid`.
 */
export const BUILD_USER = { uid: 1000, gid: 1000 } as const;
