// The experiment of issue 17 (bench/edit-to-verdict/README.md): extern templates for the Asio and
// Boost.Process class templates the TODO answers instantiate. Measured, not kept (g++ still instantiates
// their inline members). Try it: bench/edit-to-verdict/compile-cost --add "-include $PWD/bench/edit-to-verdict/extern-templates.hpp"
// (with CLUSTERKIT_EXTERN defined empty, the same lines are the explicit instantiation definitions).
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <clusterkit/process.hpp>
#include <string>
#include <vector>
#if defined(BOOST_PROCESS_V2_PIDFD_OPEN)
#define CLUSTERKIT_PROCESS_HANDLE boost::process::v2::detail::basic_process_handle_fd
#elif defined(BOOST_PROCESS_V2_PDFORK)
#define CLUSTERKIT_PROCESS_HANDLE boost::process::v2::detail::basic_process_handle_fd_or_signal
#else
#define CLUSTERKIT_PROCESS_HANDLE boost::process::v2::detail::basic_process_handle_signal
#endif
#ifndef CLUSTERKIT_EXTERN
#define CLUSTERKIT_EXTERN extern
#endif
CLUSTERKIT_EXTERN template class boost::asio::execution::any_executor<
      boost::asio::execution::context_as_t<boost::asio::execution_context&>,
      boost::asio::execution::blocking_t::never_t,
      boost::asio::execution::prefer_only<boost::asio::execution::blocking_t::possibly_t>,
      boost::asio::execution::prefer_only<boost::asio::execution::outstanding_work_t::tracked_t>,
      boost::asio::execution::prefer_only<boost::asio::execution::outstanding_work_t::untracked_t>,
      boost::asio::execution::prefer_only<boost::asio::execution::relationship_t::fork_t>,
      boost::asio::execution::prefer_only<boost::asio::execution::relationship_t::continuation_t>>;
CLUSTERKIT_EXTERN template class boost::asio::io_context::basic_executor_type<std::allocator<void>, 0>;
CLUSTERKIT_EXTERN template class boost::process::v2::basic_process<boost::asio::any_io_executor>;
CLUSTERKIT_EXTERN template class CLUSTERKIT_PROCESS_HANDLE<boost::asio::any_io_executor>;
CLUSTERKIT_EXTERN template class boost::asio::basic_waitable_timer<std::chrono::steady_clock>;
CLUSTERKIT_EXTERN template class boost::asio::basic_signal_set<boost::asio::any_io_executor>;
CLUSTERKIT_EXTERN template class boost::asio::basic_readable_pipe<boost::asio::any_io_executor>;
CLUSTERKIT_EXTERN template class boost::asio::basic_writable_pipe<boost::asio::any_io_executor>;
CLUSTERKIT_EXTERN template class std::vector<std::string>;
