#pragma once
// The whole public API in one include. Each header says what of it is
// thread-safe.

#include "lpu/chat.h"          // chat templates and messages
#include "lpu/device.h"        // the device interface: cpu and lpu-sim backends
#include "lpu/engine.h"        // requests over batch slots (continuous batching)
#include "lpu/int8_session.h"  // the int8 forward pass on the CPU backend
#include "lpu/model.h"         // GGUF models and their configuration
#include "lpu/program.h"       // compiling, saving and loading Programs
#include "lpu/progress.h"      // progress of long work (bars on a terminal)
#include "lpu/reference.h"     // the fp32 reference forward pass
#include "lpu/sampling.h"      // samplers and stop strings
#include "lpu/status.h"        // Status and Result
#include "lpu/synth.h"         // synthetic models
#include "lpu/token.h"
#include "lpu/tokenizer.h"     // tokenizers and incremental detokenising
