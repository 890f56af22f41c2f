/**
 * The unit tests: `deno task test:unit` runs the test files imported here, with no permission
 * but reading and writing files (`deno test --no-prompt --allow-read --allow-write`), so none of
 * them can start a process, open a socket, call libc or read the environment; they need no
 * Debian package and finish in seconds. The whole suite (`deno task test`) runs them too, with
 * every other file in tests/ (real processes, tmux, sshd, UDP on loopback, Debian's mosh).
 *
 * A test file belongs here when it passes under those permissions; one that needs more stays
 * out, or has its pure part split into a file of its own (wrapper_args_test.ts beside
 * wrapper_test.ts, transport_test.ts beside transport_udp_test.ts, display_test.ts beside
 * display_cmosh_test.ts, server_session_test.ts beside server_test.ts, client_args_test.ts and
 * real_terminal_test.ts beside client_test.ts).
 */

import "./aes_test.ts";
import "./channel_test.ts";
import "./client_args_test.ts";
import "./client_extensions_test.ts";
import "./congestion_test.ts";
import "./cursor_shape_test.ts";
import "./datagram_test.ts";
import "./display_attributes_test.ts";
import "./display_test.ts";
import "./docs_test.ts";
import "./escape_key_test.ts";
import "./extensions_test.ts";
import "./forward_spec_test.ts";
import "./fragment_test.ts";
import "./heap_hygiene_test.ts";
import "./history_sender_test.ts";
import "./history_test.ts";
import "./history_writer_test.ts";
import "./host_log_test.ts";
import "./key_test.ts";
import "./notification_test.ts";
import "./ocb_test.ts";
import "./parser_test.ts";
import "./prediction_test.ts";
import "./protobuf_test.ts";
import "./real_terminal_test.ts";
import "./server_args_test.ts";
import "./sgr_test.ts";
import "./shell_plan_test.ts";
import "./synchronized_output_test.ts";
import "./terminal_attributes_test.ts";
import "./terminal_events_test.ts";
import "./terminal_features_test.ts";
import "./terminal_fuzz_test.ts";
import "./terminal_hash_test.ts";
import "./terminal_state_history_test.ts";
import "./terminal_state_test.ts";
import "./terminal_test.ts";
import "./transport_test.ts";
import "./user_stream_test.ts";
import "./timer_test.ts";
import "./waker_test.ts";
import "./workload_test.ts";
import "./wrapper_args_test.ts";
