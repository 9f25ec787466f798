# The gRPC fence: the two files that reach past gRPC's public C++ API
# (src/server/raw_callback_service.h, src/tls/grpc_cipher_suites.h) must
# refuse to compile against a gRPC release other than the one checked, with
# a message naming the file. Preprocesses each against a gRPC that says it
# is 1.99 (a version_info.h of its own, found before the system's).
#   cmake -DCXX=<compiler> -DSRC=<src dir> -DWORK=<scratch dir> -P grpc_fence_test.cmake
file(MAKE_DIRECTORY "${WORK}/grpcpp")
file(WRITE "${WORK}/grpcpp/version_info.h"
  "#define GRPC_CPP_VERSION_MAJOR 1\n#define GRPC_CPP_VERSION_MINOR 99\n"
  "#define GRPC_CPP_VERSION_PATCH 0\n#define GRPC_CPP_VERSION_STRING \"1.99.0\"\n")
foreach(fenced server/raw_callback_service.h tls/grpc_cipher_suites.h)
  file(WRITE "${WORK}/fenced.cc" "#include \"${fenced}\"\n")
  execute_process(
    COMMAND "${CXX}" -std=c++20 -E -I "${WORK}" -I "${SRC}" "${WORK}/fenced.cc" -o /dev/null
    RESULT_VARIABLE status ERROR_VARIABLE errors OUTPUT_QUIET)
  if(status EQUAL 0)
    message(FATAL_ERROR "${fenced} compiled against gRPC 1.99: the fence does not hold")
  endif()
  if(NOT errors MATCHES "cnpgi: src/${fenced} ")
    message(FATAL_ERROR "${fenced} failed against gRPC 1.99 without the fence's message:\n${errors}")
  endif()
  # And against the gRPC in use it must pass the fence.
  execute_process(
    COMMAND "${CXX}" -std=c++20 -E -I "${SRC}" "${WORK}/fenced.cc" -o /dev/null
    RESULT_VARIABLE status ERROR_VARIABLE errors OUTPUT_QUIET)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${fenced} does not preprocess against the gRPC in use:\n${errors}")
  endif()
  message(STATUS "${fenced}: refused against gRPC 1.99 with its message, accepted against this gRPC")
endforeach()
