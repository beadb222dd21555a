/** Value of a dimension that a record did not carry. */
export const UNKNOWN = 'Unknown';

/** Value that a dimension's new values fold into once its distinct-value cap is reached. */
export const OTHER = 'Other';

/** Most characters kept of a free-form dimension value sent by a client. */
export const MAX_VALUE_LENGTH = 64;

/** Most characters kept of a page path or screen name: paths run longer than other values. */
export const MAX_PAGE_LENGTH = 128;

/** Most characters kept of an event name. */
export const MAX_EVENT_NAME_LENGTH = 128;

export const DEVICES = ['Mobile', 'Tablet', 'Desktop', 'TV', 'Wearable', 'Console', UNKNOWN] as const;

export const SESSION_SOURCES = [
  'Direct',
  'Organic Search',
  'Paid Search',
  'Social',
  'Email',
  'SMS',
  'Push',
  'Referral',
  'Deep Link',
  OTHER,
  UNKNOWN,
] as const;

/** Browser value of native-app activity, which has no browser. */
export const APP_BROWSER = 'App';
