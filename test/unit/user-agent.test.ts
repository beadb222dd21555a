import { describe, expect, it } from 'vitest';
import {
  classifyUserAgent,
  consideredUserAgent,
  defaultUserAgentClassifier,
  MAX_USER_AGENT_LENGTH,
  parseUserAgent,
  USER_AGENT_CACHE_MAX_ENTRIES,
  UserAgentClassifier,
} from '../../src/ingest/user-agent.js';
import { BOT_PATTERNS } from '../../src/ingest/user-agent-tables.js';
import { DEVICES, MAX_VALUE_LENGTH } from '../../src/model/dimensions.js';

type Row = readonly [
  name: string,
  ua: string,
  browser: string | undefined,
  os: string | undefined,
  device: string | undefined,
];

/** Real User-Agents of people: counted, with the dimensions they give. */
const PEOPLE: readonly Row[] = [
  // Desktop
  [
    'Chrome, Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Chrome',
    'Windows',
    'Desktop',
  ],
  [
    'Firefox, Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0',
    'Firefox',
    'Windows',
    'Desktop',
  ],
  [
    'Edge, Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
    'Edge',
    'Windows',
    'Desktop',
  ],
  [
    'Opera, Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0',
    'Opera',
    'Windows',
    'Desktop',
  ],
  [
    'Internet Explorer 11, Windows',
    'Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko',
    'Internet Explorer',
    'Windows',
    'Desktop',
  ],
  [
    'Vivaldi, Windows (kept as bowser names it)',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 Vivaldi/6.6.3271.45',
    'Vivaldi',
    'Windows',
    'Desktop',
  ],
  [
    'Yandex Browser, Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 YaBrowser/24.4.0.0 Safari/537.36',
    'Yandex Browser',
    'Windows',
    'Desktop',
  ],
  [
    'Chrome, macOS',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Chrome',
    'macOS',
    'Desktop',
  ],
  [
    'Safari, macOS (and iPadOS Safari asking for desktop sites: the same string)',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15',
    'Safari',
    'macOS',
    'Desktop',
  ],
  [
    'Firefox, macOS',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0',
    'Firefox',
    'macOS',
    'Desktop',
  ],
  [
    'Edge, macOS',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0',
    'Edge',
    'macOS',
    'Desktop',
  ],
  [
    'Chrome, Linux',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Chrome',
    'Linux',
    'Desktop',
  ],
  [
    'Firefox, Ubuntu',
    'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
    'Firefox',
    'Linux',
    'Desktop',
  ],
  [
    'Chromium, Ubuntu (counted as Chrome)',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/79.0.3945.79 Chrome/79.0.3945.79 Safari/537.36',
    'Chrome',
    'Linux',
    'Desktop',
  ],
  [
    'Chrome, ChromeOS',
    'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Chrome',
    'ChromeOS',
    'Desktop',
  ],
  // Android phones and tablets
  [
    'Chrome, Android phone (reduced UA)',
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
    'Chrome',
    'Android',
    'Mobile',
  ],
  [
    'Chrome, Pixel 7',
    'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36',
    'Chrome',
    'Android',
    'Mobile',
  ],
  [
    'Chrome, Android tablet (no "Mobile" token)',
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'Chrome',
    'Android',
    'Tablet',
  ],
  [
    'Samsung Internet, Galaxy S23',
    'Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36',
    'Samsung Internet',
    'Android',
    'Mobile',
  ],
  [
    'Samsung Internet, Galaxy Tab S9',
    'Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/22.0 Chrome/111.0.5563.116 Safari/537.36',
    'Samsung Internet',
    'Android',
    'Tablet',
  ],
  [
    'Firefox, Android phone',
    'Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0',
    'Firefox',
    'Android',
    'Mobile',
  ],
  [
    'Firefox, Android tablet',
    'Mozilla/5.0 (Android 14; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0',
    'Firefox',
    'Android',
    'Tablet',
  ],
  [
    'Opera, Android',
    'Mozilla/5.0 (Linux; Android 10; VOG-L29) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 OPR/79.0.4195.76630',
    'Opera',
    'Android',
    'Mobile',
  ],
  [
    'Opera Mini, Android',
    'Opera/9.80 (Android; Opera Mini/36.2.2254/119.132; U; id) Presto/2.12.423 Version/12.16',
    'Opera',
    'Android',
    'Mobile',
  ],
  [
    'Edge, Android',
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64',
    'Edge',
    'Android',
    'Mobile',
  ],
  [
    'UC Browser, Android',
    'Mozilla/5.0 (Linux; U; Android 10; en-US; RMX1971 Build/QKQ1.190918.001) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36',
    'UC Browser',
    'Android',
    'Mobile',
  ],
  [
    'Android stock browser (Android 4)',
    'Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30',
    'Android Browser',
    'Android',
    'Mobile',
  ],
  [
    'Amazon Silk, Fire tablet',
    'Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/123.3.1 like Chrome/123.0.6312.118 Safari/537.36',
    'Amazon Silk',
    'Android',
    'Tablet',
  ],
  [
    'CUBOT phone (the brand is not a bot)',
    'Mozilla/5.0 (Linux; Android 10; CUBOT NOTE 20) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36',
    'Chrome',
    'Android',
    'Mobile',
  ],
  // iPhone and iPad
  [
    'Safari, iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1',
    'Safari',
    'iOS',
    'Mobile',
  ],
  [
    'Chrome, iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
    'Chrome',
    'iOS',
    'Mobile',
  ],
  [
    'Firefox, iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15',
    'Firefox',
    'iOS',
    'Mobile',
  ],
  [
    'Edge, iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/124.2478.50 Mobile/15E148 Safari/605.1.15',
    'Edge',
    'iOS',
    'Mobile',
  ],
  [
    'Safari, iPad (mobile site)',
    'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    'Safari',
    'iOS',
    'Tablet',
  ],
  [
    'Chrome, iPad',
    'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1',
    'Chrome',
    'iOS',
    'Tablet',
  ],
  [
    'Firefox, iPad asking for desktop sites ("Macintosh" with FxiOS)',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/124.0 Safari/605.1.15',
    'Firefox',
    'iOS',
    'Tablet',
  ],
  // In-app views and native apps
  [
    'Facebook in-app, iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/441.0.0.45.108;FBBV/551218346;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/553102425]',
    'Facebook',
    'iOS',
    'Mobile',
  ],
  [
    'Facebook in-app, Android',
    'Mozilla/5.0 (Linux; Android 13; SM-S911B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/442.0.0.33.113;]',
    'Facebook',
    'Android',
    'Mobile',
  ],
  [
    'Instagram in-app, iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 307.0.2.19.110 (iPhone14,2; iOS 17_1_2; en_US; en; scale=3.00; 1170x2532; 532541816)',
    'Instagram',
    'iOS',
    'Mobile',
  ],
  [
    'Instagram in-app, Android',
    'Mozilla/5.0 (Linux; Android 13; SM-G991B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36 Instagram 309.1.0.41.113 Android (33/13; 480dpi; 1080x2176; samsung; SM-G991B; o1s; exynos2100; en_US; 541635863)',
    'Instagram',
    'Android',
    'Mobile',
  ],
  [
    'TikTok in-app, iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_36.5.4 TikTok 36.5.4 rv:365405 (iPhone; iOS 17.4; en_US)',
    'TikTok',
    'iOS',
    'Mobile',
  ],
  [
    'LINE in-app, iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1 Line/14.5.0',
    'LINE',
    'iOS',
    'Mobile',
  ],
  [
    'WeChat in-app, Android (bowser knows it)',
    'Mozilla/5.0 (Linux; Android 10; Redmi Note 8 Pro Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/83.0.4103.101 Mobile Safari/537.36 MicroMessenger/7.0.15.1680(0x27000F51) Process/tools WeChat/arm64 NetType/WIFI Language/zh_CN ABI/arm64',
    'WeChat',
    'Android',
    'Mobile',
  ],
  [
    'Google app, iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/288.0.576558444 Mobile/15E148 Safari/604.1',
    'Google App',
    'iOS',
    'Mobile',
  ],
  [
    'Android WebView of an unknown app',
    'Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36',
    'Android WebView',
    'Android',
    'Mobile',
  ],
  [
    'WKWebView of an unknown app, iPhone',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
    'iOS WebView',
    'iOS',
    'Mobile',
  ],
  [
    'Yahoo! JAPAN app, iPhone (bowser alone would call it a bot)',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 14_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 YJApp-IOS jp.co.yahoo.ipn.appli/4.49.0',
    'iOS WebView',
    'iOS',
    'Mobile',
  ],
  [
    'Yahoo! JAPAN weather app, iPad',
    'Mozilla/5.0 (iPad; CPU OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 YJApp-IOS jp.co.yahoo.YWeatherApp/8.7.2',
    'iOS WebView',
    'iOS',
    'Tablet',
  ],
  [
    'native Android app (Dalvik)',
    'Dalvik/2.1.0 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014)',
    'App',
    'Android',
    undefined,
  ],
  ['native app on OkHttp', 'okhttp/4.12.0', 'App', undefined, undefined],
  [
    'native Apple app (CFNetwork)',
    'Weather/1.0 CFNetwork/1494.0.7 Darwin/23.4.0',
    'App',
    undefined,
    undefined,
  ],
  ['Flutter app (dart:io)', 'Dart/3.2 (dart:io)', 'App', undefined, undefined],
  // TVs
  [
    'Samsung Tizen TV',
    'Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36',
    'Samsung Internet',
    'Tizen',
    'TV',
  ],
  [
    'Samsung Tizen TV, older (no SMART-TV token)',
    'Mozilla/5.0 (Linux; Tizen 2.3) AppleWebKit/538.1 (KHTML, like Gecko)Version/2.3 TV Safari/538.1',
    'Samsung Internet',
    'Tizen',
    'TV',
  ],
  [
    'LG webOS TV',
    'Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36 WebAppManager',
    'WebOS Browser',
    'webOS',
    'TV',
  ],
  [
    'Chromecast with Google TV',
    'Mozilla/5.0 (Linux; Android 12.0; Build/STTE.230319.008.H1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/92.0.4515.159 Safari/537.36 CrKey/1.56.500000 DeviceType/AndroidTV',
    'Chrome',
    'Android',
    'TV',
  ],
  [
    'Chromecast',
    'Mozilla/5.0 (X11; Linux aarch64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 CrKey/1.54.250320',
    'Chrome',
    'Linux',
    'TV',
  ],
  [
    'Amazon Fire TV app webview ("Mobile" token notwithstanding)',
    'Mozilla/5.0 (Linux; Android 9; AFTMM Build/PS7273; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36',
    'Android WebView',
    'Android',
    'TV',
  ],
  [
    'NVIDIA SHIELD Android TV webview',
    'Mozilla/5.0 (Linux; Android 11; SHIELD Android TV Build/RQ1A.210105.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36',
    'Android WebView',
    'Android',
    'TV',
  ],
  ['Roku', 'Roku/DVP-12.0 (12.0.0.4182-88)', 'Roku', 'Roku', 'TV'],
  ['Apple TV', 'AppleTV11,1/11.1', undefined, 'tvOS', 'TV'],
  // Consoles
  [
    'PlayStation 5',
    'Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15',
    'PlayStation Browser',
    'PlayStation',
    'Console',
  ],
  [
    'PlayStation 4',
    'Mozilla/5.0 (PlayStation 4 3.11) AppleWebKit/537.73 (KHTML, like Gecko)',
    'PlayStation Browser',
    'PlayStation',
    'Console',
  ],
  [
    'PlayStation Vita',
    'Mozilla/5.0 (PlayStation Vita 3.61) AppleWebKit/537.73 (KHTML, like Gecko) Silk/3.2',
    'PlayStation Browser',
    'PlayStation',
    'Console',
  ],
  [
    'Xbox Series X (legacy Edge)',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox Series X) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/48.0.2564.82 Safari/537.36 Edge/20.02',
    'Edge',
    'Xbox',
    'Console',
  ],
  [
    'Xbox One (Chromium Edge)',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/91.0.4472.124 Safari/537.36 Edg/91.0.864.59',
    'Edge',
    'Xbox',
    'Console',
  ],
  [
    'Nintendo Switch',
    'Mozilla/5.0 (Nintendo Switch; WifiWebAuthApplet) AppleWebKit/606.4 (KHTML, like Gecko) NF/6.0.1.15.4 NintendoBrowser/5.1.0.20393',
    'Nintendo Browser',
    'Nintendo',
    'Console',
  ],
  [
    'Nintendo Wii U',
    'Mozilla/5.0 (Nintendo WiiU) AppleWebKit/536.30 (KHTML, like Gecko) NX/3.0.4.2.12 NintendoBrowser/4.3.1.11264.US',
    'Nintendo Browser',
    'Nintendo',
    'Console',
  ],
  // Wearables
  [
    'Galaxy Watch (Tizen)',
    'Mozilla/5.0 (Linux; Tizen 4.0; SAMSUNG SM-R760) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/56.0.2924.0 Mobile Safari/537.36',
    'Samsung Internet',
    'Tizen',
    'Wearable',
  ],
  [
    'Galaxy Watch5 (Wear OS)',
    'Mozilla/5.0 (Linux; Android 11; SM-R880) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/18.0 Chrome/99.0.4844.88 Mobile Safari/537.36',
    'Samsung Internet',
    'Android',
    'Wearable',
  ],
];

/** Real User-Agents of crawlers, link previewers, monitors, headless browsers and scripts. */
const BOTS: readonly (readonly [name: string, ua: string])[] = [
  ['Googlebot', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'],
  [
    'Googlebot smartphone',
    'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.91 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  ],
  ['AdsBot-Google', 'AdsBot-Google (+http://www.google.com/adsbot.html)'],
  [
    'Google-InspectionTool',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 (compatible; Google-InspectionTool/1.0;)',
  ],
  [
    'bingbot',
    'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36',
  ],
  ['Yahoo! Slurp', 'Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)'],
  ['YandexBot', 'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)'],
  ['DuckDuckGo favicons', 'Mozilla/5.0 (compatible; DuckDuckGo-Favicons-Bot/1.0; +http://duckduckgo.com)'],
  [
    'Applebot (otherwise a Safari string)',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)',
  ],
  ['AhrefsBot', 'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)'],
  [
    'Bytespider',
    'Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)',
  ],
  [
    'GPTBot',
    'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)',
  ],
  ['facebookexternalhit', 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)'],
  ['Slackbot', 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)'],
  ['Twitterbot', 'Twitterbot/1.0'],
  ['LinkedInBot', 'LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)'],
  ['WhatsApp link preview', 'WhatsApp/2.23.20.0 A'],
  ['Discordbot', 'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)'],
  ['TelegramBot', 'TelegramBot (like TwitterBot)'],
  ['UptimeRobot', 'Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)'],
  ['Pingdom', 'Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)'],
  ['Kubernetes probe', 'kube-probe/1.29'],
  ['AWS load balancer health check', 'ELB-HealthChecker/2.0'],
  [
    'HeadlessChrome (Puppeteer, Playwright)',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36',
  ],
  [
    'Lighthouse / PageSpeed Insights',
    'Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse',
  ],
  [
    'PhantomJS',
    'Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1',
  ],
  ['curl', 'curl/8.4.0'],
  ['Wget', 'Wget/1.21.4'],
  ['python-requests', 'python-requests/2.31.0'],
  ['Go net/http', 'Go-http-client/1.1'],
  ['axios', 'axios/1.6.8'],
  ['node-fetch', 'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)'],
  ['Apache HttpClient', 'Apache-HttpClient/4.5.13 (Java/17.0.2)'],
  ['Postman', 'PostmanRuntime/7.37.3'],
];

describe('classifyUserAgent: people', () => {
  it.each(PEOPLE)('%s', (_name, ua, browser, os, device) => {
    expect(classifyUserAgent(ua)).toStrictEqual({
      bot: false,
      ...(browser === undefined ? {} : { browser }),
      ...(os === undefined ? {} : { os }),
      ...(device === undefined ? {} : { device }),
    });
  });

  it('gives devices of the vocabulary and values within the length limit', () => {
    for (const [, ua] of PEOPLE) {
      const { browser, os, device } = classifyUserAgent(ua);
      if (device !== undefined) expect(DEVICES).toContain(device);
      for (const value of [browser, os, device]) {
        if (value !== undefined) expect(value.length).toBeLessThanOrEqual(MAX_VALUE_LENGTH);
      }
    }
  });
});

describe('classifyUserAgent: iPad asking for desktop sites', () => {
  it('an iOS browser token in a "Macintosh" string (constructed from the FxiOS case) is an iPad', () => {
    const ua =
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Safari/604.1';
    expect(classifyUserAgent(ua)).toStrictEqual({
      bot: false,
      browser: 'Chrome',
      os: 'iOS',
      device: 'Tablet',
    });
  });
});

describe('classifyUserAgent: bots', () => {
  it.each(BOTS)('%s is a bot, with no dimension', (_name, ua) => {
    expect(classifyUserAgent(ua)).toStrictEqual({ bot: true });
  });

  it('no bot pattern matches a person', () => {
    for (const [name, ua] of PEOPLE) {
      expect(
        BOT_PATTERNS.filter((p) => p.test(ua)),
        name,
      ).toEqual([]);
    }
  });
});

describe('classifyUserAgent: empty and garbage', () => {
  it.each([
    ['empty', ''],
    ['whitespace', ' \t\n '],
    ['a dash', '-'],
    ['a word', 'asdf'],
    ['bare Mozilla', 'Mozilla/5.0'],
    ['control characters', '\u0000\u0001\u0002'],
    ['emoji', '\u{1F600}\u{1F600}\u{1F600}'],
    ['unbalanced parentheses', 'Mozilla/5.0 ((((((((( ;;;; ))'],
  ])('%s → no dimension, not a bot', (_name, ua) => {
    expect(classifyUserAgent(ua)).toStrictEqual({ bot: false });
  });

  it('a non-string (a caller bug) is unknown, not a crash', () => {
    expect(classifyUserAgent(undefined as unknown as string)).toStrictEqual({ bot: false });
    expect(classifyUserAgent(42 as unknown as string)).toStrictEqual({ bot: false });
  });

  it('surrounding whitespace does not matter', () => {
    const ua = PEOPLE[0][1];
    expect(classifyUserAgent(`  ${ua}\t`)).toBe(classifyUserAgent(ua));
  });
});

describe('length limit', () => {
  const chrome = PEOPLE[0][1];

  it('classifies only the first MAX_USER_AGENT_LENGTH characters', () => {
    const long = `${chrome} ${'x'.repeat(1000)}`;
    expect(consideredUserAgent(long)).toHaveLength(MAX_USER_AGENT_LENGTH);
    expect(classifyUserAgent(long)).toStrictEqual(classifyUserAgent(chrome));
    // Two long strings sharing their first 512 characters are one cache entry.
    expect(classifyUserAgent(`${long}a`)).toBe(classifyUserAgent(`${long}b`));
  });

  it('ignores what lies beyond the limit, bot tokens included', () => {
    const padded = chrome.padEnd(MAX_USER_AGENT_LENGTH, ' x');
    expect(classifyUserAgent(`${padded} Googlebot/2.1`).bot).toBe(false);
  });

  it('never cuts a surrogate pair in half', () => {
    const ua = `${'a'.repeat(MAX_USER_AGENT_LENGTH - 1)}\u{1F600}`;
    expect(consideredUserAgent(ua)).toBe('a'.repeat(MAX_USER_AGENT_LENGTH - 1));
  });
});

describe('cache', () => {
  it('answers a repeated User-Agent with the same frozen object', () => {
    const ua = PEOPLE[1][1];
    const first = classifyUserAgent(ua);
    expect(classifyUserAgent(ua)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(parseUserAgent(ua)).toStrictEqual(first);
  });

  it('stays bounded by maxEntries, evicting the least recently used', () => {
    const classifier = new UserAgentClassifier({ maxEntries: 3 });
    const [a, b, c, d] = PEOPLE.map(([, ua]) => ua);
    const first = classifier.classify(a);
    const evicted = classifier.classify(b);
    classifier.classify(c);
    classifier.classify(a); // a is now the most recently used; b the least
    classifier.classify(d);
    expect(classifier.size).toBe(3);
    expect(classifier.classify(a)).toBe(first);
    const again = classifier.classify(b);
    expect(again).not.toBe(evicted);
    expect(again).toStrictEqual(evicted);
    expect(classifier.size).toBe(3);
  });

  it('the default cache holds at most USER_AGENT_CACHE_MAX_ENTRIES', () => {
    const extra = 100;
    for (let i = 0; i < USER_AGENT_CACHE_MAX_ENTRIES + extra; i++) {
      classifyUserAgent(`Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/${i}.0`);
    }
    expect(defaultUserAgentClassifier.size).toBe(USER_AGENT_CACHE_MAX_ENTRIES);
    // Still correct after evictions.
    expect(classifyUserAgent(PEOPLE[0][1])).toStrictEqual({
      bot: false,
      browser: 'Chrome',
      os: 'Windows',
      device: 'Desktop',
    });
  });
});
