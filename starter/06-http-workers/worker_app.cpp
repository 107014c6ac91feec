// Lesson 06: what lesson06-worker serves: the routes of worker_routes.cpp, nothing more. This file is where a
// later lesson adds routes: lesson 08's worker has a worker_app.cpp of its own in its place.
#include "worker_routes.hpp"

namespace lesson06 {

Answer serve(const Request& request) { return answer(request); }

}  // namespace lesson06
