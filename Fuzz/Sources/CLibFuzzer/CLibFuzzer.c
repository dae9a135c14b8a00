// Only the header matters: it declares libFuzzer's driver for the Swift harnesses.
#include "CLibFuzzer.h"
