#include "batch/multipart.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::batch {
namespace {

struct Part {
  PartHeaders headers;
  std::string data;
  bool ended = false;
};

// Runs a parser over `body` fed in pieces of `piece` bytes (0 = all at once); returns the parts and whether
// the parse (including finish) succeeded.
struct Outcome {
  std::vector<Part> parts;
  bool ok = false;
  std::string error;
};

// Callbacks that record into `out`.
MultipartParser::Callbacks recorder(Outcome& out) {
  MultipartParser::Callbacks cb;
  cb.on_part = [&out](const PartHeaders& h) {
    out.parts.push_back({h, "", false});
    return true;
  };
  cb.on_data = [&out](std::string_view d) {
    out.parts.back().data.append(d);
    return true;
  };
  cb.on_part_end = [&out] {
    out.parts.back().ended = true;
    return true;
  };
  return cb;
}

Outcome parse(std::string_view boundary, std::string_view body, std::size_t piece = 0,
              MultipartLimits limits = {}) {
  Outcome out;
  MultipartParser p(boundary, recorder(out), limits);
  bool ok = true;
  if (piece == 0) {
    ok = p.feed(body);
  } else {
    for (std::size_t at = 0; ok && at < body.size(); at += piece) {
      ok = p.feed(body.substr(at, piece));
    }
  }
  out.ok = ok && p.finish();
  out.error = p.error();
  return out;
}

const std::string kBody =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"purpose\"\r\n"
    "\r\n"
    "batch\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "{\"a\":1}\n\r\n--Xy not a boundary\r\n--XyQ still data\n"
    "\r\n"
    "--XyZ--\r\n";

TEST(Multipart, ParsesFieldsAndFile) {
  auto out = parse("XyZ", kBody);
  ASSERT_TRUE(out.ok) << out.error;
  ASSERT_EQ(out.parts.size(), 2u);
  EXPECT_EQ(out.parts[0].headers.name, "purpose");
  EXPECT_FALSE(out.parts[0].headers.has_filename);
  EXPECT_EQ(out.parts[0].data, "batch");
  EXPECT_EQ(out.parts[1].headers.name, "file");
  EXPECT_EQ(out.parts[1].headers.filename, "in.jsonl");
  EXPECT_EQ(out.parts[1].headers.content_type, "application/octet-stream");
  // Delimiter look-alikes stay data: "--Xy" and "--XyQ" are not the boundary.
  EXPECT_EQ(out.parts[1].data, "{\"a\":1}\n\r\n--Xy not a boundary\r\n--XyQ still data\n");
  EXPECT_TRUE(out.parts[1].ended);
}

TEST(Multipart, AnySplitOfTheBodyGivesTheSameParts) {
  const auto whole = parse("XyZ", kBody);
  ASSERT_TRUE(whole.ok);
  for (std::size_t piece : {1, 2, 3, 5, 7, 13, 64}) {
    auto out = parse("XyZ", kBody, piece);
    ASSERT_TRUE(out.ok) << "piece " << piece << ": " << out.error;
    ASSERT_EQ(out.parts.size(), whole.parts.size());
    for (std::size_t i = 0; i < whole.parts.size(); ++i) {
      EXPECT_EQ(out.parts[i].data, whole.parts[i].data) << "piece " << piece;
    }
  }
  // Every two-piece split as well.
  for (std::size_t cut = 0; cut <= kBody.size(); ++cut) {
    Outcome out;
    MultipartParser p("XyZ", recorder(out));
    ASSERT_TRUE(p.feed(std::string_view(kBody).substr(0, cut)) &&
                p.feed(std::string_view(kBody).substr(cut)) && p.finish())
        << "cut " << cut << ": " << p.error();
    ASSERT_EQ(out.parts.size(), 2u);
    EXPECT_EQ(out.parts[1].data, whole.parts[1].data) << "cut " << cut;
  }
}

TEST(Multipart, PreambleAndEpilogueAreIgnoredAndPaddingAllowed) {
  std::string body =
      "preamble text\r\n--b  \t\r\nContent-Disposition: form-data; name=x\r\n\r\nv\r\n--b--\r\nepilogue";
  auto out = parse("b", body);
  ASSERT_TRUE(out.ok) << out.error;
  ASSERT_EQ(out.parts.size(), 1u);
  EXPECT_EQ(out.parts[0].headers.name, "x");
  EXPECT_EQ(out.parts[0].data, "v");
}

TEST(Multipart, EmptyPartContent) {
  auto out = parse("b", "--b\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n\r\n--b--");
  ASSERT_TRUE(out.ok) << out.error;
  ASSERT_EQ(out.parts.size(), 1u);
  EXPECT_EQ(out.parts[0].data, "");
}

TEST(Multipart, TruncatedBodyIsAnError) {
  auto out = parse("XyZ", kBody.substr(0, kBody.size() - 9));  // closing delimiter cut off
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("closing boundary"), std::string::npos) << out.error;
  auto none = parse("XyZ", "no multipart here");
  EXPECT_FALSE(none.ok);
  EXPECT_NE(none.error.find("boundary"), std::string::npos) << none.error;
}

TEST(Multipart, PartWithoutDispositionOrNameIsAnError) {
  auto out = parse("b", "--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--");
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("Content-Disposition"), std::string::npos) << out.error;
  auto noname = parse("b", "--b\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nv\r\n--b--");
  EXPECT_FALSE(noname.ok);
  auto attachment = parse("b", "--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--b--");
  EXPECT_FALSE(attachment.ok);
  auto folded = parse("b", "--b\r\n continued: x\r\n\r\nv\r\n--b--");
  EXPECT_FALSE(folded.ok);
}

TEST(Multipart, LimitsOnHeadersPartsAndPreamble) {
  MultipartLimits small;
  small.max_header_bytes = 64;
  small.max_parts = 2;
  std::string long_header =
      "--b\r\nContent-Disposition: form-data; name=\"" + std::string(100, 'n') + "\"\r\n\r\nv\r\n--b--";
  auto out = parse("b", long_header, 0, small);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("header block"), std::string::npos) << out.error;
  std::string three;
  for (int i = 0; i < 3; ++i) {
    three += "--b\r\nContent-Disposition: form-data; name=p\r\n\r\nv\r\n";
  }
  three += "--b--";
  auto many = parse("b", three, 0, small);
  EXPECT_FALSE(many.ok);
  EXPECT_NE(many.error.find("too many"), std::string::npos) << many.error;
  auto preamble = parse("b", std::string(1000, 'p') + "\r\n--b\r\n", 1, small);
  EXPECT_FALSE(preamble.ok);
}

TEST(Multipart, MalformedDelimiterLine) {
  auto out = parse("b", "--b\r\nContent-Disposition: form-data; name=p\r\n\r\nv\r\n--bX\r\n--b--");
  // "--bX" is a delimiter followed by junk: RFC 2046 requires CRLF (or "--") after the boundary.
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("delimiter"), std::string::npos) << out.error;
}

TEST(Multipart, CallbackCanRejectWithItsOwnMessage) {
  MultipartParser* self = nullptr;
  MultipartParser::Callbacks cb;
  cb.on_part = [](const PartHeaders&) { return true; };
  cb.on_data = [&](std::string_view) {
    self->fail("too big for me");
    return false;
  };
  cb.on_part_end = [] { return true; };
  MultipartParser p("b", cb);
  self = &p;
  EXPECT_FALSE(p.feed("--b\r\nContent-Disposition: form-data; name=p\r\n\r\nvvvvvvvvvvvvvv\r\n--b--"));
  EXPECT_EQ(p.error(), "too big for me");
  EXPECT_FALSE(p.feed("more"));
}

TEST(MultipartHeaders, BoundaryFromContentType) {
  std::string error;
  EXPECT_EQ(form_data_boundary("multipart/form-data; boundary=abc", error).value_or(""), "abc");
  EXPECT_EQ(form_data_boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b.c\"", error).value_or(""),
            "a b.c");
  EXPECT_FALSE(form_data_boundary("application/json", error));
  EXPECT_NE(error.find("multipart/form-data"), std::string::npos);
  EXPECT_FALSE(form_data_boundary("multipart/form-data", error));
  EXPECT_NE(error.find("boundary"), std::string::npos);
  EXPECT_FALSE(form_data_boundary("multipart/form-data; boundary=" + std::string(71, 'a'), error));
  EXPECT_FALSE(form_data_boundary("multipart/form-data; boundary=\"ends \"", error));
  EXPECT_FALSE(form_data_boundary("multipart/form-data; boundary=a<b", error));
}

TEST(MultipartHeaders, ContentDisposition) {
  PartHeaders h;
  ASSERT_TRUE(parse_content_disposition("form-data; name=\"file\"; filename=\"a \\\"q\\\".jsonl\"", h));
  EXPECT_EQ(h.name, "file");
  EXPECT_EQ(h.filename, "a \"q\".jsonl");
  PartHeaders ext;
  ASSERT_TRUE(parse_content_disposition("form-data; name=file; filename*=UTF-8''na%C3%AFve.jsonl", ext));
  EXPECT_EQ(ext.filename, "na\xC3\xAFve.jsonl");
  EXPECT_TRUE(ext.has_filename);
  PartHeaders semi;
  ASSERT_TRUE(parse_content_disposition("form-data; name=\"a;b\"", semi));
  EXPECT_EQ(semi.name, "a;b");
  PartHeaders bad;
  EXPECT_FALSE(parse_content_disposition("form-data; name=\"\"", bad));
  EXPECT_FALSE(parse_content_disposition("inline; name=x", bad));
}

}  // namespace
}  // namespace sluice::batch
