#ifndef SDC_CZLIB_SHIM_H
#define SDC_CZLIB_SHIM_H
#include <zlib.h>
#endif
