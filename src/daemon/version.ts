// guestd's own version (printed by --version) and the hypervisor version CONNECT_GET_VERSION reports.
export const GUESTD_VERSION = '0.1.0';
/** major·1 000 000 + minor·1 000 + micro, as libvirt encodes versions */
export const GUESTD_VERSION_NUMBER = 1000;
/** the libvirt library version CONNECT_GET_LIB_VERSION reports: the protocol level we follow (9.0.0) */
export const LIBVIRT_COMPAT_VERSION_NUMBER = 9_000_000;
