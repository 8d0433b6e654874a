#include "examples/train_curves.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/safetensors.h"

namespace pmsdsen::train {
namespace {

struct Point {
  double x, y;
};

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `count` ticks.
double tick_step(double range, int count) {
  if (!(range > 0)) return 1.0;
  const double raw = range / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * mag;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

std::string label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

// At most `max_points` points: consecutive points averaged in buckets.
std::vector<Point> thin(const std::vector<Point>& p, size_t max_points) {
  if (p.size() <= max_points) return p;
  std::vector<Point> out;
  const double per = static_cast<double>(p.size()) / max_points;
  for (size_t b = 0; b < max_points; ++b) {
    const size_t lo = static_cast<size_t>(b * per), hi = std::min(p.size(), static_cast<size_t>((b + 1) * per));
    double sx = 0, sy = 0;
    for (size_t i = lo; i < hi; ++i) sx += p[i].x, sy += p[i].y;
    if (hi > lo) out.push_back({sx / (hi - lo), sy / (hi - lo)});
  }
  return out;
}

double number_or_nan(const nlohmann::json& r, const char* key) {
  return r.contains(key) && r[key].is_number() ? r[key].get<double>() : NAN;
}

}  // namespace

std::string curves_svg(const std::vector<nlohmann::json>& records, int64_t total_iters,
                       const std::string& title) {
  std::vector<Point> loss, miou;
  for (const nlohmann::json& r : records) {
    const double it = number_or_nan(r, "iter");
    const std::string kind = r.value("kind", "");
    if (kind == "train") {
      const double l = number_or_nan(r, "loss");
      if (std::isfinite(it) && std::isfinite(l)) loss.push_back({it, l});
    } else if (kind == "val") {
      const double m = number_or_nan(r, "miou");
      if (std::isfinite(it) && std::isfinite(m)) miou.push_back({it, 100.0 * m});
    }
  }
  const double W = 860, H = 460, left = 70, right = 70, top = 50, bottom = 60;
  const double pw = W - left - right, ph = H - top - bottom;
  double xmax = static_cast<double>(std::max<int64_t>(total_iters, 1));
  for (const Point& p : loss) xmax = std::max(xmax, p.x);
  for (const Point& p : miou) xmax = std::max(xmax, p.x);
  double lmax = 0;
  for (const Point& p : loss) lmax = std::max(lmax, p.y);
  const double lstep = tick_step(lmax > 0 ? lmax : 1.0, 5);
  lmax = std::max(lstep, std::ceil((lmax > 0 ? lmax : 1.0) / lstep) * lstep);
  const double xstep = tick_step(xmax, 8);
  // The mIoU axis ends at the next multiple of 10% above the best value.
  double mmax = 10.0;
  for (const Point& p : miou) mmax = std::max(mmax, std::min(100.0, 10.0 * std::ceil(p.y / 10.0 + 1e-9)));
  const double mstep = mmax <= 20 ? 2.0 : mmax <= 50 ? 5.0 : 10.0;

  auto X = [&](double x) { return left + pw * x / xmax; };
  auto YL = [&](double y) { return top + ph * (1.0 - y / lmax); };
  auto YM = [&](double m) { return top + ph * (1.0 - m / mmax); };

  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
    << " " << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s << "<text x=\"" << W / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" << escape(title) << "</text>\n";
  // grid and x ticks
  for (double x = 0; x <= xmax + 1e-9; x += xstep) {
    s << "<line x1=\"" << num(X(x)) << "\" y1=\"" << top << "\" x2=\"" << num(X(x)) << "\" y2=\"" << top + ph
      << "\" stroke=\"#eee\"/>\n";
    s << "<text x=\"" << num(X(x)) << "\" y=\"" << top + ph + 18 << "\" text-anchor=\"middle\">" << label(x)
      << "</text>\n";
  }
  for (double y = 0; y <= lmax + 1e-9; y += lstep) {
    s << "<line x1=\"" << left << "\" y1=\"" << num(YL(y)) << "\" x2=\"" << left + pw << "\" y2=\"" << num(YL(y))
      << "\" stroke=\"#eee\"/>\n";
    s << "<text x=\"" << left - 8 << "\" y=\"" << num(YL(y) + 4) << "\" text-anchor=\"end\" fill=\"#1f77b4\">"
      << label(y) << "</text>\n";
  }
  for (double m = 0; m <= mmax + 1e-9; m += mstep)
    s << "<text x=\"" << left + pw + 8 << "\" y=\"" << num(YM(m) + 4) << "\" fill=\"#d62728\">" << label(m)
      << "%</text>\n";
  s << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"#444\"/>\n";
  s << "<text x=\"" << left + pw / 2 << "\" y=\"" << H - 15 << "\" text-anchor=\"middle\">iteration</text>\n";
  s << "<text transform=\"translate(18," << top + ph / 2 << ") rotate(-90)\" text-anchor=\"middle\" "
       "fill=\"#1f77b4\">training loss</text>\n";
  s << "<text transform=\"translate(" << W - 14 << "," << top + ph / 2 << ") rotate(90)\" text-anchor=\"middle\" "
       "fill=\"#d62728\">validation mIoU</text>\n";

  if (!loss.empty()) {
    s << "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"";
    for (const Point& p : thin(loss, 1500)) s << num(X(p.x)) << "," << num(YL(p.y)) << " ";
    s << "\"/>\n";
  }
  if (!miou.empty()) {
    s << "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"1.5\" points=\"";
    for (const Point& p : thin(miou, 1500)) s << num(X(p.x)) << "," << num(YM(p.y)) << " ";
    s << "\"/>\n";
    if (miou.size() <= 200)
      for (const Point& p : miou)
        s << "<circle cx=\"" << num(X(p.x)) << "\" cy=\"" << num(YM(p.y)) << "\" r=\"3\" fill=\"#d62728\"><title>"
          << "iter " << label(p.x) << ": mIoU " << num(p.y) << "%</title></circle>\n";
    const Point& last = miou.back();
    const auto best = std::max_element(miou.begin(), miou.end(), [](const Point& a, const Point& b) { return a.y < b.y; });
    s << "<text x=\"" << left + pw - 6 << "\" y=\"" << top + 16 << "\" text-anchor=\"end\" fill=\"#d62728\">mIoU "
      << num(last.y) << "% (best " << num(best->y) << "% at " << label(best->x) << ")</text>\n";
  }
  if (!loss.empty())
    s << "<text x=\"" << left + pw - 6 << "\" y=\"" << top + 32 << "\" text-anchor=\"end\" fill=\"#1f77b4\">loss "
      << label(std::round(loss.back().y * 1000) / 1000) << "</text>\n";
  s << "</svg>\n";
  return s.str();
}

void write_curves(const std::string& path, const std::vector<nlohmann::json>& records, int64_t total_iters,
                  const std::string& title) {
  write_file_atomically(path, curves_svg(records, total_iters, title));
}

}  // namespace pmsdsen::train
