# Compiler settings shared by every target this project compiles from its own
# sources. Generated protobuf/gRPC code is deliberately left out of
# cnpgi_strict_warnings(): we do not control what protoc emits.

if(CNPGI_SANITIZE)
  # Applied globally so that tests, tools and the SDK agree on the ABI of
  # instrumented containers; recover is off so any report fails the test.
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

function(cnpgi_strict_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
endfunction()
