// TLS through the libcurl transport against a local HTTPS server whose PKI
// is generated at test time with the openssl CLI.
#include <gtest/gtest.h>

#include <filesystem>

#include "runner/kube/client.h"
#include "tests/unit/kube/test_server.h"

namespace faultline::kube {
namespace {

using faultline::testing::Exchange;
using faultline::testing::Pki;
using faultline::testing::read_file;
using faultline::testing::TestServer;

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(faultline::testing::temp_dir("tls"));
    std::filesystem::create_directories(*dir_ + "/ip");
    std::filesystem::create_directories(*dir_ + "/dns");
    ip_ = new Pki(faultline::testing::make_pki(*dir_ + "/ip", "IP:127.0.0.1"));
    dns_ = new Pki(faultline::testing::make_pki(*dir_ + "/dns", "DNS:kube.test"));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete ip_;
    delete dns_;
    delete dir_;
  }

  static TestServer::Handler ok() {
    return [](Exchange& ex) { ex.respond(200, R"({"gitVersion":"v1.36.3"})"); };
  }
  static ApiError failure(const ClientConfig& c) {
    try {
      Client(c).server_version();
    } catch (const ApiError& e) {
      return e;
    }
    ADD_FAILURE() << "the request succeeded";
    return ApiError(ApiError::Kind::Other, 0, "", "", "", "none");
  }

  static inline std::string* dir_;
  static inline Pki* ip_;
  static inline Pki* dns_;
};

ClientConfig config(const TestServer& server) {
  ClientConfig c;
  c.server = server.url();
  c.max_retries = 0;
  return c;
}

TEST_F(TlsTest, VerifiesAgainstTheConfiguredCa) {
  TestServer server(ok(), TestServer::Tls{ip_->server_crt, ip_->server_key, ""});
  auto c = config(server);
  c.ca_pem = read_file(ip_->ca_crt);
  EXPECT_EQ(Client(c).server_version()["gitVersion"], "v1.36.3");
}

TEST_F(TlsTest, RejectsAServerTheCaDidNotSign) {
  TestServer server(ok(), TestServer::Tls{ip_->server_crt, ip_->server_key, ""});
  auto c = config(server);
  c.ca_pem = read_file(dns_->ca_crt);  // another CA
  auto e = failure(c);
  EXPECT_EQ(e.kind(), ApiError::Kind::Transport);
  EXPECT_NE(std::string(e.what()).find("certificate"), std::string::npos) << e.what();

  c.ca_pem.clear();  // system CAs do not know the test CA either
  EXPECT_EQ(failure(c).kind(), ApiError::Kind::Transport);
  EXPECT_EQ(server.count("GET"), 0u);
}

TEST_F(TlsTest, InsecureSkipVerifyConnectsAnyway) {
  TestServer server(ok(), TestServer::Tls{ip_->server_crt, ip_->server_key, ""});
  auto c = config(server);
  c.insecure_skip_tls_verify = true;
  EXPECT_EQ(Client(c).server_version()["gitVersion"], "v1.36.3");
}

TEST_F(TlsTest, TlsServerNameVerifiesAnotherNameThanTheUrlHost) {
  // The certificate names only kube.test; the server is reached at 127.0.0.1.
  TestServer server(ok(), TestServer::Tls{dns_->server_crt, dns_->server_key, ""});
  auto c = config(server);
  c.ca_pem = read_file(dns_->ca_crt);
  auto e = failure(c);
  EXPECT_EQ(e.kind(), ApiError::Kind::Transport);
  c.tls_server_name = "kube.test";
  EXPECT_EQ(Client(c).server_version()["gitVersion"], "v1.36.3");
  c.tls_server_name = "other.test";
  EXPECT_EQ(failure(c).kind(), ApiError::Kind::Transport);
}

TEST_F(TlsTest, ClientCertificateAuthenticates) {
  TestServer server(ok(), TestServer::Tls{ip_->server_crt, ip_->server_key, ip_->ca_crt});
  auto c = config(server);
  c.ca_pem = read_file(ip_->ca_crt);
  EXPECT_EQ(failure(c).kind(), ApiError::Kind::Transport);  // no client certificate
  c.client_cert_pem = read_file(ip_->client_crt);
  c.client_key_pem = read_file(ip_->client_key);
  EXPECT_EQ(Client(c).server_version()["gitVersion"], "v1.36.3");
  EXPECT_EQ(server.count("GET", "/version"), 1u);
}

}  // namespace
}  // namespace faultline::kube
