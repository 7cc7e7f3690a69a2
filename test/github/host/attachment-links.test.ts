import { describe, expect, it } from "vitest";
import { findAttachmentLinks, isGitHubOrigin } from "../../../src/github/host/attachment-links.ts";
import { expectLinearTime } from "../../support/linear-time.ts";

const place = { webOrigin: "https://github.com", owner: "acme", repo: "widgets" };
const ghes = { webOrigin: "http://127.0.0.1:1234", owner: "acme", repo: "widgets" };
const ASSET = "https://github.com/user-attachments/assets/0b6a4c1e-9f3d-4b7a-8e21-5c2d7f0a9b13";

describe("findAttachmentLinks", () => {
  it("finds every allowed shape in markdown, <img> and bare, in order", () => {
    const text = [
      `![screenshot](${ASSET})`,
      `<img width="400" alt="x" src="https://github.com/acme/widgets/assets/12345/ab-CD-12">`,
      "and the old one https://user-images.githubusercontent.com/123/456-abc.png here",
      "<img src='https://private-user-images.githubusercontent.com/1/2-x.png?jwt=eyJ.a.b'>",
    ].join("\n");
    expect(findAttachmentLinks(text, place)).toEqual([
      ASSET,
      "https://github.com/acme/widgets/assets/12345/ab-CD-12",
      "https://user-images.githubusercontent.com/123/456-abc.png",
      "https://private-user-images.githubusercontent.com/1/2-x.png?jwt=eyJ.a.b",
    ]);
  });

  it("finds GitHub Enterprise Server's uploads on its own origin, port included", () => {
    const text = "![a](http://127.0.0.1:1234/storage/user/7/files/5f0c-aa) ![b](http://127.0.0.1:1234/user-attachments/assets/abc)";
    expect(findAttachmentLinks(text, ghes)).toEqual(["http://127.0.0.1:1234/storage/user/7/files/5f0c-aa", "http://127.0.0.1:1234/user-attachments/assets/abc"]);
    expect(findAttachmentLinks("![a](http://127.0.0.1:1235/storage/user/7/files/5f0c-aa)", ghes)).toEqual([]);
    expect(findAttachmentLinks("![a](https://github.com/user-attachments/assets/abc)", ghes)).toEqual([]);
  });

  it("gives each image once, however often and however it is spelled", () => {
    const text = `${ASSET} ![again](${ASSET}) <img src="${ASSET}#top"> HTTPS://GitHub.com/user-attachments/assets/abc https://github.com:443/user-attachments/assets/abc`;
    expect(findAttachmentLinks(text, place)).toEqual([ASSET, "https://github.com/user-attachments/assets/abc"]);
  });

  it("takes this repository's assets whatever the case of its name, and no other repository's", () => {
    const text = "https://github.com/ACME/Widgets/assets/1/a https://github.com/acme/other/assets/1/b https://github.com/evil/widgets/assets/1/c";
    expect(findAttachmentLinks(text, place)).toEqual(["https://github.com/ACME/Widgets/assets/1/a"]);
  });

  it("ends a link at whitespace or )\"'<>] and drops a trailing full stop or comma", () => {
    const text = `See ${ASSET}. Also https://github.com/user-attachments/assets/b, and [https://github.com/user-attachments/assets/c] and "https://github.com/user-attachments/assets/d"x <https://github.com/user-attachments/assets/e>`;
    expect(findAttachmentLinks(text, place)).toEqual([ASSET, ...["b", "c", "d", "e"].map((id) => `https://github.com/user-attachments/assets/${id}`)]);
  });

  it("ignores every other host, scheme and shape", () => {
    const refused = [
      "https://evil.example/user-attachments/assets/abc",
      "https://github.com.evil.example/user-attachments/assets/abc",
      "https://evil.githubusercontent.com/1/2.png",
      "http://user-images.githubusercontent.com/1/2.png",
      "https://user-images.githubusercontent.com:8443/1/2.png",
      "https://user-images.githubusercontent.com/",
      "http://github.com/user-attachments/assets/abc",
      "https://github.com:8443/user-attachments/assets/abc",
      "https://api.github.com/user-attachments/assets/abc",
      "ftp://github.com/user-attachments/assets/abc",
      "javascript:alert(1)",
      "https://github.com/user-attachments/assets/a_b",
      "https://github.com/user-attachments/assets/abc/extra",
      "https://github.com/user-attachments/files/1/report.pdf",
      "https://github.com/acme/widgets/assets/x1/abc",
      "https://github.com/storage/user/x/files/abc",
      "https://github.com/acme/widgets/issues/1",
    ];
    expect(findAttachmentLinks(refused.map((link) => `![x](${link})`).join("\n"), place)).toEqual([]);
    expect(findAttachmentLinks(`<a href="javascript:fetch('https://evil.example')">x</a> data:image/png;base64,AAAA`, place)).toEqual([]);
  });

  it("refuses a name and password in the link, even an empty one", () => {
    for (const link of ["https://a@github.com/user-attachments/assets/abc", "https://a:b@github.com/user-attachments/assets/abc", "https://@github.com/user-attachments/assets/abc", "https://github.com@evil.example/user-attachments/assets/abc", "https://a@user-images.githubusercontent.com/1/2.png"]) {
      expect(findAttachmentLinks(link, place), link).toEqual([]);
    }
  });

  it("refuses a path with dot segments, spelled plainly or escaped", () => {
    for (const link of ["https://github.com/other/x/../../acme/widgets/assets/1/abc", "https://github.com/x/%2e%2e/user-attachments/assets/abc", "https://github.com/user-attachments/./assets/abc", "https://user-images.githubusercontent.com/1/../2.png", "https://github.com\\..\\user-attachments/assets/abc"]) {
      expect(findAttachmentLinks(link, place), link).toEqual([]);
    }
  });

  it("runs in linear time on text shaped against its pattern", () => {
    const find = (text: string) => findAttachmentLinks(text, place);
    const repeat = (unit: string) => (chars: number) => unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);
    expectLinearTime(find, repeat("https://"));
    expectLinearTime(find, repeat("https://https:/"));
    expectLinearTime(find, repeat("!["));
    expectLinearTime(find, repeat("![x](https://github.com/user-attachments/assets/a"));
    expectLinearTime(find, repeat('<img src="'));
    expectLinearTime(find, repeat(`${ASSET} `));
    expectLinearTime(find, (chars) => `https://github.com/${"..,".repeat(chars / 3)}`);
    expectLinearTime(find, (chars) => `https://${"@".repeat(chars)}`);
    expectLinearTime(find, (chars) => `https://github.com/user-attachments/assets/${"a".repeat(chars)}!`);
  });
});

describe("isGitHubOrigin", () => {
  it("is true on GitHub's web origin only, port and scheme included", () => {
    expect(isGitHubOrigin(ASSET, "https://github.com")).toBe(true);
    expect(isGitHubOrigin("http://127.0.0.1:1234/storage/user/1/files/a", "http://127.0.0.1:1234")).toBe(true);
    for (const url of ["https://github.com.evil.example/x", "http://github.com/x", "https://github.com:8443/x", "https://objects.githubusercontent.com/x", "file:///etc/passwd", "not a url"]) {
      expect(isGitHubOrigin(url, "https://github.com"), url).toBe(false);
    }
    expect(isGitHubOrigin("file:///etc/passwd", "file:///tmp")).toBe(false);
  });
});
