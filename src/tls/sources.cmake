# Sources of the tls component (paths relative to src/).
# Mutual TLS for the TCP transport: file validation, server credentials,
# client-certificate verification, TLS 1.3 enforcement. Private: the headers
# are included as "tls/..." from src/.
find_package(OpenSSL REQUIRED)

target_sources(cnpgi PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/client_certificate_verifier.cc
  ${CMAKE_CURRENT_LIST_DIR}/grpc_cipher_suites.cc
  ${CMAKE_CURRENT_LIST_DIR}/mutual_tls.cc
  ${CMAKE_CURRENT_LIST_DIR}/openssl_util.cc
  ${CMAKE_CURRENT_LIST_DIR}/tls13_only.cc)
target_include_directories(cnpgi PRIVATE "$<BUILD_INTERFACE:${CMAKE_CURRENT_LIST_DIR}/..>")
target_link_libraries(cnpgi PRIVATE OpenSSL::SSL OpenSSL::Crypto gRPC::grpc++)
