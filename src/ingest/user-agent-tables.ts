import { APP_BROWSER } from '../model/dimensions.js';

/**
 * The tables that user-agent.ts classifies with: bot patterns, the renames of bowser's browser and
 * OS names, and the rules that recognize browsers, operating systems and devices before bowser's
 * answer is considered. Data only; docs/classification.md, "Browser, OS and device", states them in
 * prose.
 */

/**
 * Bot rules, each tested on the User-Agent (first MAX_USER_AGENT_LENGTH characters) in addition to
 * bowser's own bot detection. Browsers, in-app views and native-app HTTP stacks used by real people
 * (okhttp, Dalvik, CFNetwork, Dart) match none of them.
 */
export const BOT_PATTERNS: readonly RegExp[] = [
  // Self-declared robots: "Googlebot/2.1", "AhrefsBot", "Slackbot-LinkExpanding", "TelegramBot"…
  // ("CUBOT" is a phone brand), crawlers and spiders, and a contact URL, which no browser sends.
  /(?<!cu)bot(?![a-z])/i,
  /crawl|spider|slurp|archiver|scrapy|scraper/i,
  /https?:\/\//i,
  // Google and Bing fetchers without "bot" in the name.
  /\bGoogle-[a-z]|-Google\b|Google (?:Favicon|Web Preview|Page ?Speed)|BingPreview/i,
  // Link previewers (unfurlers) of messengers and social networks.
  /facebookexternalhit|facebookcatalog|meta-external|^WhatsApp\/|SkypeUriPreview|Slack-ImgProxy|Iframely|Embedly|vkShare|URL Preview|Link Preview/i,
  // AI assistants and crawlers fetching on someone's behalf.
  /ChatGPT|OAI-SearchBot|anthropic-ai|Claude-(?:User|Web|SearchBot)|cohere-ai|Perplexity|MistralAI/i,
  // Uptime and synthetic monitors, load-balancer and orchestrator health checks.
  /pingdom|uptime|StatusCake|Site24x7|NewRelicPinger|Datadog|Catchpoint|Checkly|HetrixTools|Freshping|monitor|health-?check|kube-probe|GoogleHC\/|Nagios|check_http|Zabbix|Prometheus|blackbox/i,
  // Headless browsers, page-speed tools and test automation.
  /Headless|PhantomJS|SlimerJS|Lighthouse|PTST\/|GTmetrix|Puppeteer|Playwright|Cypress\/|Selenium|WebDriver/i,
  // HTTP libraries and command-line clients, which send their own name first.
  /^(?:curl|Wget|python|Go-http-client|Java\/|Apache-HttpClient|Jakarta|axios|node-fetch|node$|undici|got\b|superagent|Ruby|Faraday|rest-client|Guzzle|libwww-perl|LWP::|PycURL|HTTPie|PostmanRuntime|insomnia|Deno\/|Bun\/|WinHttp|Mechanize)/i,
];

/** bowser's browser names that we name differently; its other known names are kept as they are. */
export const BROWSER_NAMES: Readonly<Record<string, string>> = {
  'Microsoft Edge': 'Edge',
  'Samsung Internet for Android': 'Samsung Internet',
  // The Tizen engine of Samsung TVs and watches is Samsung's browser there.
  Tizen: 'Samsung Internet',
  // Chromium builds carry Chrome's token too, and are Chrome for counting purposes.
  Chromium: 'Chrome',
  'Opera Coast': 'Opera',
  'Google Search': 'Google App',
  Focus: 'Firefox Focus',
  'QQ Browser Lite': 'QQ Browser',
};

/** bowser's OS names that we name differently; its other known names are kept as they are. */
export const OS_NAMES: Readonly<Record<string, string>> = {
  'Chrome OS': 'ChromeOS',
  WebOS: 'webOS',
  'PlayStation 4': 'PlayStation',
};

/**
 * The HTTP stacks of native apps (Android's Dalvik and okhttp, Flutter's Dart, iOS's CFNetwork and
 * Alamofire): their browser is `App`, and they do not say whether they run on a phone or a tablet.
 */
export const NATIVE_APP_STACK = /^Dalvik\/|^okhttp\/|^Dart\/|\bCFNetwork\/|\bAlamofire\//;

/**
 * Browser families recognized from the User-Agent before bowser's name is considered, first match
 * wins: in-app views of social apps (named after the app), console browsers, and the HTTP stacks of
 * native apps (`App`, docs/semantics.md §7).
 */
export const BROWSER_RULES: readonly (readonly [RegExp, string])[] = [
  [/\bFBAN\/|\bFBAV\/|\bFB_IAB\//, 'Facebook'],
  [/\bInstagram\b/, 'Instagram'],
  [/\bmusical_ly|\bTikTok\b|BytedanceWebview/, 'TikTok'],
  [/\bSnapchat\//, 'Snapchat'],
  [/\bLinkedInApp\b/, 'LinkedIn'],
  [/\bLine\/\d/, 'LINE'],
  [/\bNintendoBrowser\//, 'Nintendo Browser'],
  [/\bPlayStation\b/, 'PlayStation Browser'],
  [NATIVE_APP_STACK, APP_BROWSER],
];

/** Operating systems recognized from the User-Agent before bowser's name is considered. */
export const OS_RULES: readonly (readonly [RegExp, string])[] = [
  [/\bPlayStation\b/, 'PlayStation'],
  [/\bXbox\b/, 'Xbox'],
  [/\bNintendo\b/, 'Nintendo'],
  [/\bAppleTV|\bApple TV\b|\btvOS\b/, 'tvOS'],
  [/\bwatchOS\b|\bWatch OS\b/i, 'watchOS'],
];

/** Devices recognized from the User-Agent before bowser's platform type is considered. */
export const DEVICE_RULES: readonly (readonly [RegExp, string])[] = [
  [/\bPlayStation\b|\bXbox\b|\bNintendo\b/, 'Console'],
  [
    /\bSM-R\d{3}|\bWear ?OS\b|\bwatchOS\b|\bWatch OS\b|\bGalaxy Watch|\bPixel Watch|\bApple ?Watch/i,
    'Wearable',
  ],
  [
    /Smart-?TV|\bTV Safari\b|Android ?TV|Google ?TV|\bCrKey\/|HbbTV|\bAppleTV|\bApple TV\b|\btvOS\b|BRAVIA|Web0S|NetCast|\bRoku\/|\bViera\b/i,
    'TV',
  ],
  // Amazon Fire TV models (AFTMM, AFTS, AFTKA…); Fire tablets are KF…
  [/\bAFT[A-Z0-9]{1,6}\b/, 'TV'],
];

/** bowser's platform types → our devices (its 'bot' type is handled as a bot). */
export const DEVICE_OF_PLATFORM: Readonly<Record<string, string>> = {
  mobile: 'Mobile',
  tablet: 'Tablet',
  desktop: 'Desktop',
  tv: 'TV',
};
