#pragma once
// The Prometheus text exposition format, version 0.0.4: what GET /metrics returns.
// Use: response.body() = to_text(registry.snapshot());  with Content-Type kTextContentType.
// Families print in the order given (a registry gives them sorted by name), each as HELP, TYPE
// and its samples; a family with no series prints nothing. Histograms print _bucket (with le,
// ending in le="+Inf"), _sum and _count per series.
// Thread-safety: pure functions.

#include "tiercache/metrics/snapshot.hpp"

#include <span>
#include <string>
#include <string_view>

namespace tiercache::metrics {

inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// Appends the exposition of `families` to `out`.
void write_text(std::span<const FamilySnapshot> families, std::string& out);
std::string to_text(std::span<const FamilySnapshot> families);

// Appends v as the format wants it: an integer without exponent when v is one below 2^53,
// else the shortest text that parses back to v; "+Inf", "-Inf" and "NaN" for the rest.
void append_value(double v, std::string& out);
// Appends a label value with \ " and newline escaped as \\ \" \n.
void append_label_value(std::string_view v, std::string& out);
// Appends HELP text with \ and newline escaped as \\ \n.
void append_help(std::string_view v, std::string& out);

}  // namespace tiercache::metrics
