#ifndef PORTCTL_CLIBYAML_SHIM_H
#define PORTCTL_CLIBYAML_SHIM_H
#include <yaml.h>
#endif
