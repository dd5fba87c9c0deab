// SPDX-License-Identifier: Apache-2.0
// Real DKIM key records for tests: a 2048-bit RSA key (mox's dkim test
// vector) and 1024- and 512-bit ones (dkimpy's and Mail::DKIM's test keys).
#pragma once

namespace mxpulse::test {

inline const char* const kDkimRsa2048 =
    "v=DKIM1; k=rsa; "
    "p="
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAy3Z9ffZe8gUTJrdGuKj6IwEembmKYpp0jMa8uhudErcI4gFVUa"
    "Fi"
    "iRWxc4jP/XR9NAEv3XwHm+CVcHu+L/n6VWt6g59U7vHXQicMfKGmEp2VplsgojNy/"
    "Y5X9HdVYM0azsI47NcJCDW9UVfeOHdO"
    "SgFME4F8dNtUKC4KTB2d1pqj/yixz+V8Sv8xkEyPfSRHcNXIw0LvelqJ1MRfN3hO/"
    "3uQSVrPYYk4SyV0b6wfnkQs28fpiIpG"
    "QvzlGI5WkrdOQT5k4YHaEvZDLNdwiMeVZOEL7dDoFs2mQsovm+"
    "tH0StUAZTnr61NLVFfD5V6Ip1V9zVtspPHvYSuOWwyArFZ9QIDAQAB";
inline const char* const kDkimRsa1024 =
    "v=DKIM1; k=rsa; "
    "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/"
    "J16JYi0Q"
    "vx/byYzCNb3W91y3FutACDfzwQ/BC/e/"
    "8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kr"
    "yOTIKT+l/K4w3QIDAQAB";
inline const char* const kDkimRsa512 =
    "v=DKIM1; "
    "p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALgSoqXVSEmfcIsOzw7oRuCCOwsmtX/SJnTWxYyj2leFxfS/"
    "AVJ+dYfY+hXqMsT7l"
    "+MZvvh/R1WzN4MO/kI/7XsCAwEAAQ==";

}  // namespace mxpulse::test
