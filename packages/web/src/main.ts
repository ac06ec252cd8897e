import { createApp, watch } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { applyLocale, createAppI18n } from './i18n/index.js';
import { applyTheme, useSession, useSettings } from './stores/index.js';
import { startDesktop } from './pwa/desktop.js';
import './ui/styles.css';

const app = createApp(App);
const pinia = createPinia();
app.use(pinia);

const settings = useSettings(pinia);
const i18n = createAppI18n(settings.effectiveLocale);
app.use(i18n);
watch(() => settings.effectiveLocale, (locale) => applyLocale(i18n, locale), { immediate: true });

let stopTheme = (): void => undefined;
watch(
  () => settings.theme,
  (theme) => {
    stopTheme();
    stopTheme = applyTheme(theme);
  },
  { immediate: true },
);

app.mount('#app');

// The service worker, desktop notifications and the unread count in the title and on the app icon.
startDesktop(i18n);

// A reload or a new tab signs in again without the password when it can.
void useSession(pinia).resume();
