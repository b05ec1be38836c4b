// Streams a Llama decode through the lpu Engine (public API only).
// Usage: llama_decode [MODEL.gguf] [-p PROMPT] [-n N] [--backend cpu|lpu-sim] [--target T] [--seed S ...]
#include "../common/decode_example.h"

int main(int argc, char** argv) { return lpu::examples::decode_main(argc, argv, "llama_decode", "tiny-dense"); }
