#include "include/lpu/program.h"

#include "lib/compiler/cache.h"
#include "lib/compiler/compiler.h"
#include "lib/compiler/model_transform.h"
#include "runtime/device/program_access.h"

namespace lpu {

Result<Program> compile_program(const Model& model, const std::string& target, const CompileOptions& options) {
  LPU_ASSIGN_OR_RETURN(target::Target t, target::resolve_target(target));
  LPU_ASSIGN_OR_RETURN(compiler::ModelInput m, compiler::model_input_from_file(model.path()));
  compiler::CompileOptions o;
  o.chips = options.chips;
  o.slots = options.slots;
  o.max_context = options.max_context;
  o.group = options.group;
  o.kv = options.kv;
  o.prefill_chunk = options.prefill_chunk;
  o.all_logits = options.all_logits;
  const compiler::TransformRequest request{options.smoothing, options.rotation,
                                          options.group != 0 ? options.group : t.default_group()};
  const std::vector<TokenId> calibration = compiler::request_transforms(model, request, m);
  if (options.use_cache) {
    if (options.progress) options.progress({"loading Program", 0, 1});
    auto cached = compiler::load_cached(m, t, o);
    if (options.progress) options.progress({"loading Program", 1, 1});
    if (cached.ok()) return runtime::make_program(std::move(*cached));
  }
  LPU_TRY(compiler::calibrate_transforms(model, request, calibration, m, options.progress), model.path());
  LPU_ASSIGN_OR_RETURN(compiler::Compiled c, compiler::compile(m, t, o, options.progress));
  if (options.use_cache) (void)compiler::store_cached(m, t, o, c.program);  // a cache that cannot be written only costs time
  return runtime::make_program(std::move(c.program));
}

}  // namespace lpu
