import assert from 'node:assert/strict';
import { constants } from 'node:buffer';
import { describe, it } from 'node:test';
import { BEHAVIOR_NS, DEFAULT_BEHAVIOR } from '../../../src/driver/process/xml/behavior.js';
import { formatDomainXML, parseDomainXML, withMetadataElement } from '../../../src/driver/process/xml/domain.js';
import { MAX_MEMORY_KIB, parseMemoryKiB } from '../../../src/driver/process/xml/scaled-integer.js';
import { isVirError, LibvirtError, VirErr } from '../../../src/libvirt/error.js';

const dom = (inner: string, type = 'process'): string => `<domain type='${type}'>${inner}</domain>`;
const ok = (extra = ''): string => dom(`<name>g</name><memory unit='MiB'>64</memory>${extra}`);

function xmlError(xml: string, re: RegExp): void {
  assert.throws(
    () => parseDomainXML(xml),
    (err: unknown) => {
      assert.ok(err instanceof LibvirtError);
      assert.equal(err.virCode, VirErr.XML_ERROR);
      assert.match(err.message, /^XML error: /);
      assert.match(err.message, re);
      return true;
    },
  );
}

describe('domain XML', () => {
  it('parses a minimal domain with defaults and a generated uuid', () => {
    const d = parseDomainXML(ok(), { newUuid: () => 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' });
    assert.equal(d.name, 'g');
    assert.equal(d.uuid, 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');
    assert.equal(d.memoryKiB, 65536);
    assert.equal(d.currentMemoryKiB, 65536);
    assert.equal(d.vcpus, 1);
    assert.deepEqual(d.behavior, DEFAULT_BEHAVIOR);
  });

  it('normalizes a uuid to lowercase 8-4-4-4-12', () => {
    const d = parseDomainXML(ok('<uuid>AAAAAAAABBBBCCCCDDDDEEEEEEEEEEEE</uuid>'));
    assert.equal(d.uuid, 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');
  });

  it("understands libvirt's memory units", () => {
    assert.equal(parseMemoryKiB('memory', '1', 'GiB'), 1024 * 1024);
    assert.equal(parseMemoryKiB('memory', '1', 'G'), 1024 * 1024);
    assert.equal(parseMemoryKiB('memory', '1', 'GB'), 976563); // 10^9 bytes, rounded up to KiB
    assert.equal(parseMemoryKiB('memory', '2048', undefined), 2048);
    assert.equal(parseMemoryKiB('memory', '1', 'b'), 1);
    assert.equal(parseMemoryKiB('memory', '1048576', 'bytes'), 1024);
    assert.equal(parseMemoryKiB('memory', '2', 'GiB'), 2 * 1024 * 1024);
  });

  it('reads behaviour, title, description, vcpu and currentMemory', () => {
    const d = parseDomainXML(
      ok(
        `<title>T</title><description>D &amp; more</description><vcpu>4</vcpu><currentMemory unit='MiB'>32</currentMemory>` +
          `<metadata><gd:behavior xmlns:gd="${BEHAVIOR_NS}" boot-seconds="2" shutdown-seconds="5" honor-shutdown="no" agent="no" drift-ppm="-50"/></metadata>`,
      ),
    );
    assert.equal(d.title, 'T');
    assert.equal(d.description, 'D & more');
    assert.equal(d.vcpus, 4);
    assert.equal(d.currentMemoryKiB, 32768);
    assert.deepEqual(d.behavior, { ...DEFAULT_BEHAVIOR, bootSeconds: 2, shutdownSeconds: 5, honorShutdown: false, agent: false, driftPpm: -50 });
  });

  it('keeps custom metadata addressable by namespace, and round-trips through format', () => {
    const xml = ok(`<metadata><my:cfg xmlns:my="urn:my:1" a="1"><my:x>t &lt; u</my:x></my:cfg></metadata>`);
    const d = parseDomainXML(xml);
    assert.deepEqual(d.metadata.map((m) => [m.uri, m.prefix]), [['urn:my:1', 'my']]);
    assert.equal(d.metadata[0]?.xml, '<my:cfg xmlns:my="urn:my:1" a="1"><my:x>t &lt; u</my:x></my:cfg>');
    const again = parseDomainXML(formatDomainXML(d));
    assert.deepEqual(again, d);
    assert.match(formatDomainXML(d, 7), /^<domain type='process' id='7'>/);
    assert.doesNotMatch(formatDomainXML(d), /id=/);
  });

  it('sets and removes a metadata element like virDomainSetMetadata', () => {
    const d = parseDomainXML(ok());
    const set = withMetadataElement(d, 'urn:x', 'x', '<thing xmlns="urn:old" k="v"><a>1</a></thing>');
    assert.equal(set.metadata[0]?.xml, '<x:thing xmlns:x="urn:x" k="v"><x:a>1</x:a></x:thing>');
    const behave = withMetadataElement(set, BEHAVIOR_NS, 'gd', '<behavior agent="no"/>');
    assert.equal(behave.behavior.agent, false);
    assert.deepEqual(withMetadataElement(behave, 'urn:x', null, null).metadata.map((m) => m.uri), [BEHAVIOR_NS]);
    assert.throws(() => withMetadataElement(d, 'urn:x', 'x', '<a><b></a>'), /malformed metadata XML/);
  });

  describe('refuses, saying what to write', () => {
    it('malformed XML', () => xmlError('<domain type="process"><name>g</name>', /malformed XML at line 1/));
    it('empty input', () => xmlError('', /empty domain XML/));
    it('another root element', () => xmlError('<vm/>', /root element must be <domain>/));
    it('a wrong type', () => xmlError(dom('<name>g</name>', 'kvm'), /domain type 'kvm' is not supported.*type='process'/));
    it('no type', () => xmlError('<domain><name>g</name></domain>', /no type attribute/));
    it('a missing name', () => xmlError(dom("<memory unit='MiB'>1</memory>"), /no <name>.*<name>web1<\/name>/));
    it('an empty name', () => xmlError(dom("<name></name><memory unit='MiB'>1</memory>"), /<name> is empty/));
    it('a name with /', () => xmlError(dom("<name>a/b</name><memory>1</memory>"), /contains '\/'/));
    it('the name ..', () => xmlError(dom("<name>..</name><memory>1</memory>"), /starts with '\.'/));
    it('a name with control characters', () => xmlError(dom("<name>a&#9;b</name><memory>1</memory>"), /control characters/));
    it('a name with a control character XML forbids (never silently dropped)', () =>
      xmlError(dom("<name>a&#7;b</name><memory>1</memory>"), /line 1, column \d+: character reference &#7; is not allowed in XML/));
    it('a name with a raw control character XML forbids', () =>
      xmlError(dom("<name>a\u0001b</name><memory>1</memory>"), /line 1, column \d+: character U\+0001 is not allowed in XML/));
    it('a name with a C1 control character', () => xmlError(dom("<name>a&#x85;b</name><memory>1</memory>"), /control characters/));
    it('a DOCTYPE with an external entity', () =>
      xmlError(
        `<!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/passwd">]>${dom('<name>&x;</name><memory>1</memory>')}`,
        /DOCTYPE.*not accepted.*remove/,
      ));
    it('a DOCTYPE with internal entities', () =>
      xmlError(`<?xml version="1.0"?>\n<!DOCTYPE domain [<!ENTITY x "y">]>${dom('<name>&x;</name><memory>1</memory>')}`, /line 2.*DOCTYPE/));
    it('elements nested deeper than the parser goes', () =>
      xmlError(ok(`<metadata><my:a xmlns:my="urn:x">${'<my:a>'.repeat(300)}${'</my:a>'.repeat(300)}</my:a></metadata>`), /nest/));
    it('metadata set with a DOCTYPE', () =>
      assert.throws(
        () => withMetadataElement(parseDomainXML(ok()), 'urn:x', 'x', '<!DOCTYPE a [<!ENTITY e "v">]><a>&e;</a>'),
        (err: unknown) => isVirError(err, VirErr.XML_ERROR) && /DOCTYPE/.test(err.message),
      ));
    it('a too long name', () => xmlError(dom(`<name>${'n'.repeat(201)}</name><memory>1</memory>`), /at most 200 bytes/));
    it('a malformed uuid', () => xmlError(ok('<uuid>not-a-uuid</uuid>'), /malformed uuid 'not-a-uuid'.*8-4-4-4-12/));
    it('a missing memory', () => xmlError(dom('<name>g</name>'), /no <memory>/));
    it('memory 0', () => xmlError(dom("<name>g</name><memory unit='KiB'>0</memory>"), /greater than 0/));
    it('memory of 1 TiB', () => xmlError(dom("<name>g</name><memory unit='TiB'>1</memory>"), /larger than the .* GiB.*at most/));
    it('memory one KiB over what a Node.js buffer holds (it would fail at start)', () => {
      const over = Math.floor(constants.MAX_LENGTH / 1024) + 1;
      if (over <= MAX_MEMORY_KIB) assert.fail(`the cap ${MAX_MEMORY_KIB} KiB must not exceed a buffer (${constants.MAX_LENGTH} bytes)`);
      xmlError(dom(`<name>g</name><memory unit='KiB'>${over}</memory>`), /larger than the .* a process guest can hold/);
      parseDomainXML(dom(`<name>g</name><memory unit='KiB'>${MAX_MEMORY_KIB}</memory>`));
    });
    it('a negative memory', () => xmlError(dom("<name>g</name><memory>-5</memory>"), /whole number/));
    it('an unknown unit', () => xmlError(dom("<name>g</name><memory unit='furlongs'>5</memory>"), /unknown unit 'furlongs'/));
    it('currentMemory above memory', () =>
      xmlError(ok("<currentMemory unit='GiB'>1</currentMemory>"), /currentMemory.*larger than <memory>/));
    it('a bad vcpu', () => xmlError(ok('<vcpu>0</vcpu>'), /<vcpu> '0'/));
    it('a repeated element', () => xmlError(ok('<vcpu>1</vcpu><vcpu>2</vcpu>'), /<vcpu> appears 2 times/));
    it('a bad behaviour value', () =>
      xmlError(ok(`<metadata><gd:behavior xmlns:gd="${BEHAVIOR_NS}" agent="maybe"/></metadata>`), /agent="yes" or agent="no"/));
    it('a negative shutdown time', () =>
      xmlError(ok(`<metadata><gd:behavior xmlns:gd="${BEHAVIOR_NS}" shutdown-seconds="-1"/></metadata>`), /shutdown-seconds/));
    it('metadata without a namespace', () => xmlError(ok('<metadata><foo/></metadata>'), /has no namespace/));
    it('an unsupported os type', () => xmlError(ok('<os><type>hvm</type></os>'), /<type>exe<\/type>/));
  });
});
