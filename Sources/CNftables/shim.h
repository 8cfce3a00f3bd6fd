#ifndef PORTCTL_CNFTABLES_SHIM_H
#define PORTCTL_CNFTABLES_SHIM_H
#include <nftables/libnftables.h>
#endif
