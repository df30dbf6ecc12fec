// Probe URLs that name a Service by its cluster DNS name.
#include "runner/observe/service_host.h"

#include <gtest/gtest.h>

namespace faultline::observe {
namespace {

TEST(ServiceHost, ParsesServiceNamespaceAndTheSchemesDefaultPort) {
  auto h = service_host("http://checkout.shop.svc/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->service, "checkout");
  EXPECT_EQ(h->namespace_, "shop");
  EXPECT_EQ(h->host, "checkout.shop.svc");
  EXPECT_EQ(h->port, 80);
  auto tls = service_host("https://api.payments.svc.cluster.local:8443");
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->service, "api");
  EXPECT_EQ(tls->namespace_, "payments");
  EXPECT_EQ(tls->host, "api.payments.svc.cluster.local");
  EXPECT_EQ(tls->port, 8443);
}

TEST(ServiceHost, LeavesEveryOtherHostToTheResolver) {
  EXPECT_FALSE(service_host("http://127.0.0.1:8080/healthz"));
  EXPECT_FALSE(service_host("http://checkout/healthz"));
  EXPECT_FALSE(service_host("http://checkout.shop/healthz"));
  EXPECT_FALSE(service_host("http://a.b.c.svc/"));
  EXPECT_FALSE(service_host("http://checkout.shop.svc.example.com/"));
  EXPECT_FALSE(service_host("ftp://checkout.shop.svc/"));
}

}  // namespace
}  // namespace faultline::observe
