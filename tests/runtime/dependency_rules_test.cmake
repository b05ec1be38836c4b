# The brief's dependency rules for the backends, checked on the sources:
#  - neither backend includes the other;
#  - the backends read only the Program (lib/program, lib/isa), never the
#    compiler (lib/compiler), the graph or the int8 pass (lib/int8);
#  - the simulator takes from kernels/ only the float kernels and the math
#    (kernels/float, kernels/math, kernels/rope).
# Run: cmake -DSOURCE_DIR=... -P dependency_rules_test.cmake
set(failures "")
function(check_dir dir forbidden_regex what)
  file(GLOB files "${SOURCE_DIR}/${dir}/*.h" "${SOURCE_DIR}/${dir}/*.cpp")
  foreach(f IN LISTS files)
    file(STRINGS "${f}" lines REGEX "^#include \"")
    foreach(line IN LISTS lines)
      if(line MATCHES "${forbidden_regex}")
        file(RELATIVE_PATH rel "${SOURCE_DIR}" "${f}")
        set(failures "${failures}\n  ${rel}: ${line} (${what})")
      endif()
    endforeach()
  endforeach()
  set(failures "${failures}" PARENT_SCOPE)
endfunction()

check_dir(runtime/sim "runtime/cpu/|lib/compiler/|lib/graph/|lib/int8/"
          "the simulator reads only the Program")
check_dir(runtime/sim "kernels/(gemm|pack|quantize|dispatch|reference|topk|norm|softmax|activation)/"
          "the simulator takes from kernels/ only the float kernels and math")
check_dir(runtime/cpu "runtime/sim/|lib/compiler/|lib/graph/|lib/int8/"
          "the CPU backend reads only the Program")
if(failures)
  message(FATAL_ERROR "dependency rules broken:${failures}")
endif()
message(STATUS "dependency rules hold")
