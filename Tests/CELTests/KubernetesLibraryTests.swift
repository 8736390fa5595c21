import Testing

@testable import CEL

/// The Kubernetes CEL libraries, with the examples of the Kubernetes documentation
/// ("Common Expression Language in Kubernetes"), and the standard library's timestamps,
/// durations and optionals.
@Suite struct KubernetesLibraryTests {
    static let cases: [Case] = [
        // strings
        ok("charAt", "'hello'.charAt(4)", .string("o")), ok("charAt_end", "'hello'.charAt(5)", .string("")), fails("charAt_range", "'hello'.charAt(6)"),
        ok("indexOf", "'hello mellow'.indexOf('ello')", .int(1)), ok("indexOf_from", "'hello mellow'.indexOf('ello', 2)", .int(7)),
        ok("indexOf_missing", "'hello'.indexOf('x')", .int(-1)), ok("lastIndexOf", "'hello mellow'.lastIndexOf('ello')", .int(7)),
        ok("lastIndexOf_from", "'hello mellow'.lastIndexOf('ello', 6)", .int(1)), ok("lowerAscii", "'TacoCÆt Xii'.lowerAscii()", .string("tacocÆt xii")),
        ok("upperAscii", "'tacoCat xii'.upperAscii()", .string("TACOCAT XII")), ok("replace", "'hello hello'.replace('he', 'we')", .string("wello wello")),
        ok("replace_n", "'hello hello'.replace('he', 'we', 1)", .string("wello hello")), ok("split", "'hello hello hello'.split(' ')", list(.string("hello"), .string("hello"), .string("hello"))),
        ok("split_n", "'hello hello hello'.split(' ', 2)", list(.string("hello"), .string("hello hello"))), ok("substring", "'tacocat'.substring(4)", .string("cat")),
        ok("substring_range", "'tacocat'.substring(0, 4)", .string("taco")), fails("substring_bad", "'tacocat'.substring(4, 2)"),
        ok("trim", "'  \\ttrim\\n    '.trim()", .string("trim")), ok("join", "['hello', 'mellow'].join(' ')", .string("hello mellow")),
        ok("join_empty_sep", "['a', 'b'].join()", .string("ab")), ok("reverse", "'gums'.reverse()", .string("smug")),
        ok("unicode_charAt", "'héllo'.charAt(1)", .string("é")),
        // lists
        ok("isSorted", "[1, 2, 3].isSorted()", .bool(true)), ok("isSorted_false", "['b', 'a'].isSorted()", .bool(false)),
        ok("sum", "[1, 3].sum()", .int(4)), ok("sum_empty", "[].sum()", .int(0)), ok("max", "[1, 3].max()", .int(3)), ok("min", "[1, 3].min()", .int(1)),
        fails("min_empty", "[].min()"), ok("list_indexOf", "[1, 2, 2, 3].indexOf(2)", .int(1)), ok("list_lastIndexOf", "['a', 'b', 'b'].lastIndexOf('b')", .int(2)),
        // regex
        ok("find", "'abc 123'.find('[0-9]+')", .string("123")), ok("find_none", "'abc'.find('[0-9]+')", .string("")),
        ok("findAll", "'123 abc 456'.findAll('[0-9]+')", list(.string("123"), .string("456"))),
        ok("findAll_n", "'123 abc 456'.findAll('[0-9]+', 1)", list(.string("123"))), fails("bad_regex", "'x'.matches('(')"),
        ok("matches_anchors", "'abc-123'.matches('^[a-z]+-[0-9]+$')", .bool(true)), ok("raw_string_regex", #"'a.b'.matches(r'^a\.b$')"#, .bool(true)),
        // url
        ok("url_scheme", "url('https://example.com:80/').getScheme()", .string("https")), ok("url_host", "url('https://example.com:80/').getHost()", .string("example.com:80")),
        ok("url_hostname", "url('https://example.com:80/').getHostname()", .string("example.com")), ok("url_port", "url('https://example.com:80/').getPort()", .string("80")),
        ok("url_path", "url('https://example.com/path with spaces/').getEscapedPath()", .string("/path%20with%20spaces/")),
        ok("url_query", "url('https://example.com/path?k1=a&k2=b&k2=c').getQuery()", map((.string("k1"), list(.string("a"))), (.string("k2"), list(.string("b"), .string("c"))))),
        ok("isURL", "isURL('https://example.com')", .bool(true)), ok("isURL_relative", "isURL('example.com')", .bool(false)),
        ok("url_ipv6_host", "url('https://[::1]:80/').getHost()", .string("[::1]:80")),
        // quantity
        ok("quantity_eq", "quantity('1Gi') == quantity('1024Mi')", .bool(true)), ok("isQuantity", "isQuantity('1.3G')", .bool(true)),
        ok("isQuantity_bad", "isQuantity('1.3Gz')", .bool(false)), ok("quantity_greater", "quantity('200M').isGreaterThan(quantity('0.2G'))", .bool(false)),
        ok("quantity_less", "quantity('50k').isLessThan(quantity('100k'))", .bool(true)), ok("quantity_compare", "quantity('200M').compareTo(quantity('0.2G'))", .int(0)),
        ok("quantity_add", "quantity('50k').add(20).isGreaterThan(quantity('50k'))", .bool(true)), ok("quantity_asInteger", "quantity('50k').asInteger()", .int(50_000)),
        ok("quantity_isInteger", "quantity('50.5').isInteger()", .bool(false)), ok("quantity_approx", "quantity('50.703k').asApproximateFloat()", .double(50703)),
        ok("quantity_sign", "quantity('-5m').sign()", .int(-1)), ok("quantity_milli", "quantity('500m').asApproximateFloat()", .double(0.5)),
        // ip and cidr
        ok("isIP", "isIP('127.0.0.1')", .bool(true)), ok("isIP_bad", "isIP('1.2.3')", .bool(false)), ok("isIP_leading_zero", "isIP('127.0.0.01')", .bool(false)),
        ok("ip_family", "ip('::1').family()", .int(6)), ok("ip_loopback", "ip('127.0.0.1').isLoopback()", .bool(true)),
        ok("ip_global", "ip('8.8.8.8').isGlobalUnicast()", .bool(true)), ok("ip_link_local", "ip('fe80::1').isLinkLocalUnicast()", .bool(true)),
        ok("ip_string", "string(ip('2001:db8::68'))", .string("2001:db8::68")), ok("ip_eq", "ip('127.0.0.1') == ip('127.0.0.1')", .bool(true)),
        ok("isCIDR", "isCIDR('192.168.0.0/16')", .bool(true)), ok("cidr_contains", "cidr('192.168.0.0/16').containsIP(ip('192.168.10.1'))", .bool(true)),
        ok("cidr_contains_string", "cidr('192.168.0.0/16').containsIP('10.0.0.1')", .bool(false)),
        ok("cidr_contains_cidr", "cidr('192.168.0.0/16').containsCIDR('192.168.10.0/24')", .bool(true)),
        ok("cidr_prefix", "cidr('192.168.0.0/16').prefixLength()", .int(16)), ok("cidr_masked", "string(cidr('192.168.1.5/24').masked())", .string("192.168.1.0/24")),
        ok("cidr_ip", "string(cidr('192.168.1.5/24').ip())", .string("192.168.1.5")),
        // semver
        ok("isSemver", "isSemver('1.0.0')", .bool(true)), ok("isSemver_bad", "isSemver('v1.0')", .bool(false)),
        ok("isSemver_normalize", "isSemver('v1.0', true)", .bool(true)), ok("semver_less", "semver('1.0.0').isLessThan(semver('1.1.0'))", .bool(true)),
        ok("semver_pre", "semver('1.0.0-alpha').isLessThan(semver('1.0.0'))", .bool(true)), ok("semver_major", "semver('2.3.4').major()", .int(2)),
        ok("semver_compare", "semver('1.2.3').compareTo(semver('1.2.3'))", .int(0)),
        // format
        ok("format_s", "'%s is %d years'.format(['Ada', 36])", .string("Ada is 36 years")), ok("format_f", "'%.2f'.format([3.14159])", .string("3.14")),
        ok("format_x", "'%x'.format([255])", .string("ff")), ok("format_b", "'%b'.format([5])", .string("101")), ok("format_list", "'%s'.format([[1, 2]])", .string("[1, 2]")),
        fails("format_missing_arg", "'%s %s'.format(['a'])"),
        // timestamps and durations
        ok("timestamp_year", "timestamp('2023-08-26T12:39:00Z').getFullYear()", .int(2023)),
        ok("timestamp_month", "timestamp('2023-08-26T12:39:00Z').getMonth()", .int(7)),
        ok("timestamp_day_of_week", "timestamp('2023-08-26T12:39:00Z').getDayOfWeek()", .int(6)),
        ok("timestamp_zone", "timestamp('2023-08-26T02:39:00Z').getHours('America/Los_Angeles')", .int(19)),
        ok("timestamp_offset_zone", "timestamp('2023-08-26T02:39:00Z').getHours('+05:30')", .int(8)),
        ok("timestamp_plus_duration", "timestamp('2023-08-26T12:39:00Z') + duration('1h') == timestamp('2023-08-26T13:39:00Z')", .bool(true)),
        ok("timestamp_diff", "timestamp('2023-08-26T12:39:00Z') - timestamp('2023-08-26T12:00:00Z')", .duration(Duration(seconds: 2340))),
        ok("timestamp_string", "string(timestamp('2023-08-26T12:39:00.5+02:00'))", .string("2023-08-26T10:39:00.5Z")),
        ok("timestamp_order", "timestamp('2023-01-01T00:00:00Z') < timestamp('2023-01-02T00:00:00Z')", .bool(true)),
        fails("timestamp_bad", "timestamp('yesterday')"), ok("duration_parts", "duration('1h30m').getMinutes()", .int(90)),
        ok("duration_string", "string(duration('1.5s'))", .string("1.5s")), ok("duration_compare", "duration('90s') == duration('1m30s')", .bool(true)),
        ok("duration_ms", "duration('2500ms').getMilliseconds()", .int(500)), fails("duration_bad", "duration('1d')"),
        ok("duration_negative", "string(duration('-3ms'))", .string("-0.003s")),
        // optionals
        ok("optional_of", "optional.of(1).value()", .int(1)), ok("optional_none", "optional.none().hasValue()", .bool(false)),
        ok("optional_orValue", "optional.none().orValue(5)", .int(5)), ok("optional_select", "{'a': 1}.?a.orValue(0)", .int(1)),
        ok("optional_select_missing", "{'a': 1}.?b.orValue(0)", .int(0)), ok("optional_index", "[1, 2][?5].hasValue()", .bool(false)),
        ok("optional_chain", "{'a': {'b': 2}}.?a.?b.value()", .int(2)), ok("optional_list_element", "[?optional.none(), ?optional.of(3)]", list(.int(3))),
        ok("optional_map_entry", "{?'a': optional.none(), 'b': 1}", map((.string("b"), .int(1)))), fails("optional_none_value", "optional.none().value()"),
        // heterogeneous equality and ordering
        ok("int_uint_eq", "1 == 1u", .bool(true)), ok("int_double_eq", "1 == 1.0", .bool(true)), ok("int_string_eq", "1 == '1'", .bool(false)),
        ok("int_double_lt", "1 < 1.5", .bool(true)), ok("uint_int_lt", "2u > -1", .bool(true)), ok("list_in_mixed", "1.0 in [1, 2]", .bool(true)),
        ok("nan_ne", "double('NaN') == double('NaN')", .bool(false)), fails("int_overflow", "9223372036854775807 + 1"),
        fails("uint_underflow", "0u - 1u"), ok("int_min_div", "-9223372036854775808 / 2", .int(-4_611_686_018_427_387_904)),
        fails("int_min_div_overflow", "-9223372036854775808 / -1"), fails("repeated_map_key", "{'a': 1, 'a': 2}"),
        // cel.bind
        ok("bind", "cel.bind(x, [1, 2, 3], x.size() + x[0])", .int(4)),
        ok("bind_nested", "cel.bind(a, 2, cel.bind(b, a * 3, a + b))", .int(8)),
        ok("bind_shadow", "cel.bind(x, 1, [10].map(x, x + 1))[0]", .int(11)),
        // Kubernetes' escaped property names
        ok("escaped_namespace", "has(self.__namespace__) && self.__namespace__ == 'x'", .bool(true), ["self": map((.string("namespace"), .string("x")))]),
        ok("escaped_dash", "self.foo__dash__bar", .int(1), ["self": map((.string("foo-bar"), .int(1)))]),
        ok("escaped_dot", "self.a__dot__b", .int(2), ["self": map((.string("a.b"), .int(2)))]),
    ]

    @Test func kubernetesLibrariesAndStandardFunctions() {
        let failed = failures(Self.cases)
        #expect(failed.isEmpty, "\(Self.cases.count - failed.count)/\(Self.cases.count) pass; failing:\n\(failed.joined(separator: "\n"))")
    }

    @Test func syntaxErrorsSayWhereAndWhat() {
        for (source, fragment) in [("self.a +", "expected an expression"), ("1 = 2", "token recognition error"), ("'open", "unterminated"), ("if", "reserved identifier"), ("a.all(1, true)", "not an identifier")] {
            do {
                _ = try Program(source)
                Issue.record("\(source) parsed")
            } catch {
                #expect(error.message.contains(fragment), "\(source): \(error.message)")
            }
        }
    }

    @Test func costLimitStopsRunawayExpressions() throws {
        let p = try! Program("[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, a + b + c > 0)))")
        #expect(throws: CELError.self) { try p.evaluate([:], costLimit: 500) }
        #expect(try same(p.evaluate([:]), .bool(true)))
        // A loop variable is not a free reference; self is.
        #expect(!p.references("a"))
        #expect(try Program("self.x > oldSelf.x").references("oldSelf"))
    }
}
