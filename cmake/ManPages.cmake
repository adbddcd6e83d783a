# Man pages (imsmeter.1.gz, imsmeter-COMMAND.1.gz) and bash/zsh completions written at build time
# by `imsmeter help-dump`, and their install() rules (GNUInstallDirs layout, as Debian wants).
include(GNUInstallDirs)

function(imsm_generate_cli_docs target)
  set(man_dir ${CMAKE_CURRENT_BINARY_DIR}/man)
  set(bash_file ${CMAKE_CURRENT_BINARY_DIR}/completions/imsmeter)
  set(zsh_file ${CMAKE_CURRENT_BINARY_DIR}/completions/_imsmeter)
  add_custom_command(
    OUTPUT ${man_dir}/imsmeter.1.gz ${bash_file} ${zsh_file}
    COMMAND ${CMAKE_COMMAND} -E rm -rf ${man_dir}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${man_dir} ${CMAKE_CURRENT_BINARY_DIR}/completions
    COMMAND $<TARGET_FILE:${target}> help-dump --man-dir ${man_dir}
    # Debian policy: man pages compressed, reproducibly (-n: no name or time stamp).
    COMMAND sh -c "gzip -9nf ${man_dir}/*.1"
    COMMAND $<TARGET_FILE:${target}> help-dump --completion-dir ${CMAKE_CURRENT_BINARY_DIR}/completions
    DEPENDS ${target}
    COMMENT "man pages and shell completions from imsmeter's option definitions"
    VERBATIM)
  add_custom_target(imsm_cli_docs ALL DEPENDS ${man_dir}/imsmeter.1.gz ${bash_file} ${zsh_file})

  install(TARGETS ${target} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(DIRECTORY ${man_dir}/ DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 FILES_MATCHING
          PATTERN "*.1.gz")
  install(FILES ${bash_file} DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
  install(FILES ${zsh_file} DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
endfunction()
