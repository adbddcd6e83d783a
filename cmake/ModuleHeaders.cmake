# Layering the compiler checks (docs/architecture.md "Modules"): a module's target exports
# only its own headers. build/include/<module>/<module> is a link to src/<module>, and only
# that directory is on the include path of the module and of the targets that link it, so
# `#include "collector/..."` in a module that does not link imsm_collector fails to build.
function(imsm_module_headers target module scope)
  set(root ${PROJECT_BINARY_DIR}/include/${module})
  file(MAKE_DIRECTORY ${root})
  if(NOT EXISTS ${root}/${module})
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${module} ${root}/${module} SYMBOLIC)
  endif()
  target_include_directories(${target} ${scope} ${root})
endfunction()
