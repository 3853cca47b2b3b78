# Warnings for project code; errors too when BRAINGRAPH_WERROR is on (CI).
function(bg_project_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wno-unused-parameter
                                           # GCC 12 false positive in std::string concatenation (GCC bug 105329)
                                           -Wno-restrict)
  if(BRAINGRAPH_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# Qt code builds without the `slots`/`signals`/`emit` keywords so torch headers never meet them.
function(bg_qt_target target)
  target_compile_definitions(${target} PRIVATE QT_NO_KEYWORDS)
  set_target_properties(${target} PROPERTIES AUTOMOC ON)
endfunction()
