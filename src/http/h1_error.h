#pragma once
// h1::Error as a boost::system::error_code, for I/O paths that report parse failures next to socket errors.
#include "http/h1.h"

namespace sluice::http::h1 {

const boost::system::error_category& error_category();
inline error_code make_error_code(Error e) { return {static_cast<int>(e), error_category()}; }

}  // namespace sluice::http::h1
