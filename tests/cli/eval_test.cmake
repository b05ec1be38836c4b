# Runs `lpu eval` and checks what it prints (cmake -P; see CMakeLists.txt).
#   -DLPU=path of the lpu tool  -DMODEL=GGUF  -DTEXT=text file
#   -DCASE=metrics: 256 tokens at G = 32 and 64, f16 and int8 KV; every int8
#     pass within the bounds below of the fp32 reference.
#   -DCASE=bad_group: --group 33 exits 1 with a message naming the option.
#
# The bounds leave a wide margin over a correct pass on this model (KL mean
# about 0.001, KL max about 0.1, top-1 0.92 to 0.95, perplexity within 0.5%
# of the reference's) while a broken one lands far outside them: an int8 pass
# with its RoPE angles doubled gives KL mean 0.15, KL max 0.59 and top-1 0.23;
# another seed's weights give KL mean about 1 and top-1 near 0.
set(kl_mean_bound 0.02)
set(kl_max_bound 0.3)
set(top1_bound 0.8)
set(ppl_ratio_percent 2)

foreach(var LPU MODEL TEXT CASE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "eval_test.cmake needs -D${var}=...")
  endif()
endforeach()

function(run_lpu_eval)
  execute_process(COMMAND "${LPU}" eval "${MODEL}" --text "${TEXT}" ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  list(JOIN ARGN " " args)
  message(STATUS "lpu eval ${args}: exit ${rc}\n${out}${err}")
  set(rc "${rc}" PARENT_SCOPE)
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()

# Sets `result` to whether perplexity `ppl` is within ppl_ratio_percent of
# `ref_ppl`. CMake's arithmetic is integer only, so both are compared as
# integers with the decimal point dropped (the table prints 4 decimals).
function(ppl_ratio_within result ppl ref_ppl)
  string(REPLACE "." "" p "${ppl}")
  string(REPLACE "." "" r "${ref_ppl}")
  math(EXPR diff_x100 "(${p} - ${r}) * 100")
  math(EXPR allowed_x100 "${r} * ${ppl_ratio_percent}")
  if(diff_x100 LESS "-${allowed_x100}" OR diff_x100 GREATER allowed_x100)
    set(${result} FALSE PARENT_SCOPE)
  else()
    set(${result} TRUE PARENT_SCOPE)
  endif()
endfunction()

# A float as the table prints it (fixed point, optionally signed).
set(num "(-?[0-9]+\\.[0-9]+)")

if(CASE STREQUAL "metrics")
  run_lpu_eval(--steps 256 --group 32,64 --kv f16,int8)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "lpu eval exited with '${rc}'")
  endif()
  if(NOT out MATCHES "\n256 tokens: ")
    message(FATAL_ERROR "expected 256 evaluated tokens")
  endif()
  if(NOT out MATCHES "\nfp32 reference +- +- +- +${num} ")
    message(FATAL_ERROR "no fp32 reference row")
  endif()
  set(ref_ppl "${CMAKE_MATCH_1}")
  set(failures "")
  foreach(group 32 64)
    foreach(kv f16 int8)
      set(pass "int8 G=${group} kv=${kv}")
      if(NOT out MATCHES "\n${pass} +${num} +${num} +${num} +${num} ")
        message(FATAL_ERROR "no row for ${pass}")
      endif()
      set(kl_mean "${CMAKE_MATCH_1}")
      set(kl_max "${CMAKE_MATCH_2}")
      set(top1 "${CMAKE_MATCH_3}")
      set(ppl "${CMAKE_MATCH_4}")
      ppl_ratio_within(ppl_ratio_within_bounds "${ppl}" "${ref_ppl}")
      if(NOT kl_mean LESS kl_mean_bound)
        list(APPEND failures "${pass}: KL mean ${kl_mean} >= ${kl_mean_bound}")
      endif()
      if(NOT kl_max LESS kl_max_bound)
        list(APPEND failures "${pass}: KL max ${kl_max} >= ${kl_max_bound}")
      endif()
      if(top1 LESS top1_bound)
        list(APPEND failures "${pass}: top-1 ${top1} < ${top1_bound}")
      endif()
      if(NOT ppl_ratio_within_bounds)
        list(APPEND failures "${pass}: perplexity ${ppl} vs the reference's ${ref_ppl}")
      endif()
    endforeach()
  endforeach()
  if(failures)
    list(JOIN failures "\n  " text)
    message(FATAL_ERROR "int8 passes outside their bounds:\n  ${text}")
  endif()
elseif(CASE STREQUAL "bad_group")
  run_lpu_eval(--steps 16 --group 33)
  if(NOT rc EQUAL 1)
    message(FATAL_ERROR "lpu eval --group 33 exited with '${rc}', expected 1")
  endif()
  if(NOT err MATCHES "^lpu: error: --group 33 \\(expected a multiple of 32")
    message(FATAL_ERROR "lpu eval --group 33: unexpected message '${err}'")
  endif()
  if(NOT out STREQUAL "")
    message(FATAL_ERROR "lpu eval --group 33 printed results: '${out}'")
  endif()
else()
  message(FATAL_ERROR "unknown -DCASE=${CASE} (expected metrics or bad_group)")
endif()
