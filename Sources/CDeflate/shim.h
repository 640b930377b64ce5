#ifndef SDC_CDEFLATE_SHIM_H
#define SDC_CDEFLATE_SHIM_H
#include <libdeflate.h>
#endif
