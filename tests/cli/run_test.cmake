# Runs `lpu run` and checks what it prints (cmake -P; see CMakeLists.txt).
#   -DLPU=path of the lpu tool  -DMODEL=GGUF
#   -DCASE=seeded: a sampled decode (temperature, top-k, top-p, seed) gives
#     the same tokens with the int8 CPU backend on 1 and 2
#     threads, the LPU simulator on a cpu-host Program and the CPU backend
#     on a Program for the tiny LPU target, all at G = 32; another seed
#     gives other tokens.
#   -DCASE=limits: a stop string ends the text before it (stop_reason
#     "stop"); --ctx ends generation at the context with stop_reason
#     "context" and says so on stderr.
cmake_minimum_required(VERSION 3.25)  # quoted arguments are strings, not variables
foreach(var LPU MODEL CASE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_test.cmake needs -D${var}=...")
  endif()
endforeach()

# Sets `json` to the JSON line `lpu run ... --json` printed, `err` to stderr.
function(run_lpu)
  execute_process(COMMAND "${LPU}" run "${MODEL}" --prompt-ids 1,5,9,30,7 --ignore-eos --json ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  list(JOIN ARGN " " args)
  message(STATUS "lpu run ${args}: exit ${rc}\n${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "lpu run ${args} failed")
  endif()
  set(json "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()

function(field out json key)
  string(JSON v GET "${json}" ${key})
  set(${out} "${v}" PARENT_SCOPE)
endfunction()

set(sampling --temperature 0.9 --top-k 40 --top-p 0.95 -n 24)
if(CASE STREQUAL "seeded")
  run_lpu(--int8 --group 32 --threads 1 ${sampling} --seed 3)
  field(want "${json}" tokens)
  foreach(config "--int8;--group;32;--threads;2" "--backend;lpu-sim;--target;cpu-host;--group;32"
                 "--backend;cpu;--target;tiny;--group;32")
    run_lpu(${config} ${sampling} --seed 3)
    field(got "${json}" tokens)
    if(NOT got STREQUAL want)
      message(FATAL_ERROR "seed 3 with ${config}: ${got}, expected ${want}")
    endif()
  endforeach()
  run_lpu(--int8 --group 32 ${sampling} --seed 4)
  field(other "${json}" tokens)
  if(other STREQUAL want)
    message(FATAL_ERROR "seeds 3 and 4 gave the same tokens: ${want}")
  endif()
elseif(CASE STREQUAL "limits")
  run_lpu(--int8 --group 32 -n 24)
  field(text "${json}" text)
  string(LENGTH "${text}" n)
  if(n LESS 4)
    message(FATAL_ERROR "too little text to cut: '${text}'")
  endif()
  string(SUBSTRING "${text}" 2 2 stop)
  string(FIND "${text}" "${stop}" at)
  run_lpu(--int8 --group 32 -n 24 --stop "${stop}")
  field(cut "${json}" text)
  field(reason "${json}" stop_reason)
  string(SUBSTRING "${text}" 0 ${at} want)
  if(NOT reason STREQUAL "stop" OR NOT cut STREQUAL want)
    message(FATAL_ERROR "--stop '${stop}': '${cut}' (${reason}), expected '${want}' (stop)")
  endif()
  run_lpu(--int8 --group 32 -n 24 --ctx 9)
  field(reason "${json}" stop_reason)
  field(tokens "${json}" tokens)
  string(JSON count LENGTH "${tokens}")
  if(NOT reason STREQUAL "context" OR NOT count EQUAL 4 OR NOT err MATCHES "context limit of 9 tokens")
    message(FATAL_ERROR "--ctx 9 after 5 prompt tokens: ${count} tokens (${reason}), expected 4 (context)")
  endif()
else()
  message(FATAL_ERROR "unknown CASE ${CASE}")
endif()
