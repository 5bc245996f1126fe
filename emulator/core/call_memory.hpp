// Memory for shared integration calls (make_call()): a call and its state take about 3 KiB, more
// than glibc's per-thread cache keeps (1,032 bytes), so each such call would go through the
// allocator's slower paths twice. Instead, each thread keeps a few freed call blocks and hands them
// out again: a call made on a connection's I/O thread and freed there reuses the same block.
// Thread-safety: as block_cache's.
#pragma once

#include "emulator/core/block_cache.hpp"

namespace apigw::emulator {

using call_memory = block_cache<struct call_memory_tag, 4096, 8>;

}  // namespace apigw::emulator
