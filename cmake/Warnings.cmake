# Project warning set, applied per target so third-party headers stay quiet.
function(imsm_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion)
  if(IMSM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Pure layers (protocol, meter) must not throw: the compiler checks it.
function(imsm_no_exceptions target)
  target_compile_options(${target} PRIVATE -fno-exceptions)
endfunction()
