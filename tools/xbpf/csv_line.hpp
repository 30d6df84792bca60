// One line of a CSV file (RFC 4180 quoting: "..." fields, "" inside them for a quote) split into
// its fields. Used by `xbpf verify --labels` and by the corpus tests, which read the same
// labels.csv.
#pragma once

#include <string>
#include <vector>

namespace xbpf::cli {

inline std::vector<std::string> split_csv_line(const std::string& line) {
    std::vector<std::string> fields;
    std::string field;
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.push_back(field);
            field.clear();
        } else {
            field += c;
        }
    }
    fields.push_back(field);
    return fields;
}

}  // namespace xbpf::cli
