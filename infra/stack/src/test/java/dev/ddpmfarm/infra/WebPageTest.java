package dev.ddpmfarm.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ddpmfarm.worker.output.Png;
import dev.ddpmfarm.worker.output.Uint8Image;
import dev.ddpmfarm.worker.testing.TinyModel;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web page in headless Chromium (Debian's {@code chromium} and {@code chromium-driver}, which {@code scripts/test}
 * installs) against the embedded stack with a tiny model: what a person does with it, click by click. Screenshots go
 * to {@code target/screenshots/}.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WebPageTest {
    private static final String KEY = "browser-key-0123456789";
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");
    private static final Duration WAIT = Duration.ofSeconds(60);

    private static Path dir;
    private static EmbeddedStack stack;
    private static WebDriver browser;
    private static WebDriverWait wait;

    @BeforeAll
    static void up() throws Exception {
        dir = Files.createTempDirectory("farm-web");
        stack = EmbeddedStack.start(TinyFarm.config(dir, "FARM_API_KEYS", "web:" + KEY,
                "FARM_WORKER_MAX_BATCH", "8"), 0, 0);
        ChromeOptions options = new ChromeOptions().setBinary("/usr/bin/chromium")
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1440,1000");
        ChromeDriverService driver = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build();
        browser = new ChromeDriver(driver, options);
        // the job list is redrawn every two seconds, so a row found a moment ago may have been replaced
        wait = (WebDriverWait) new WebDriverWait(browser, WAIT).ignoring(StaleElementReferenceException.class);
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    static void down() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        stack.close();
    }

    @BeforeEach
    void open() {
        browser.get(stack.url().toString());
    }

    @Test
    @Order(1)
    @DisplayName("a refused key and invalid fields are shown next to the key and next to each field")
    void errorsNextToTheirFields() {
        useKey("not-a-key-of-this-farm");
        assertTrue(errorOf("header", "key").contains("refused"), errorOf("header", "key"));

        useKey(KEY);
        wait.until(ExpectedConditions.textToBe(By.id("key-state"), "connected"));
        assertEquals("", errorOf("header", "key"));
        type("#generate [name=steps]", "5000");
        type("#generate [name=guidance]", "2");
        browser.findElement(By.cssSelector("#generate button[type=submit]")).click();
        wait.until(d -> !errorOf("#generate", "steps").isEmpty());
        assertTrue(errorOf("#generate", "steps").contains("at most T = 1000"), errorOf("#generate", "steps"));
        assertTrue(errorOf("#generate", "guidance").contains("set class"), errorOf("#generate", "guidance"));
        assertEquals("", errorOf("#generate", "count"));
        screenshot("errors");
        assertEquals(0, browser.findElements(By.cssSelector("#job-rows tr")).size(), "nothing was submitted");
    }

    @Test
    @Order(2)
    @DisplayName("a generate job: progress, x_t and x̂_0 frames as they arrive, then the grid and the files")
    void generate() {
        useKey(KEY);
        type("#generate [name=count]", "4");
        new Select(browser.findElement(By.cssSelector("#generate [name=sampler]"))).selectByValue("ddpm");
        type("#generate [name=steps]", "40");
        new Select(browser.findElement(By.cssSelector("#generate [name=class]"))).selectByValue("3");
        type("#generate [name=guidance]", "2");
        type("#generate [name=checkpointEvery]", "10");
        browser.findElement(By.cssSelector("#generate button[type=submit]")).click();

        waitForStatus("succeeded");
        wait.until(d -> loaded("#images img"));
        List<WebElement> frames = browser.findElements(By.cssSelector("#filmstrip img"));
        Set<String> steps = frames.stream().map(f -> f.getDomAttribute("data-step")).collect(Collectors.toSet());
        assertEquals(Set.of("10", "20", "30", "40"), steps, "every frame arrives and is shown");
        assertTrue(loaded("#filmstrip img") && loaded("#frame-xt") && loaded("#frame-x0"), "frame images load");
        assertTrue(browser.findElement(By.id("job-progress")).getText().contains("4 of 4 done"));
        assertTrue(browser.findElement(By.id("files")).getText().contains("samples.npy"));
        screenshot("generate");
    }

    @Test
    @Order(3)
    @DisplayName("a running job is cancelled from the job list and marked cancelled")
    void cancel() {
        useKey(KEY);
        type("#generate [name=count]", "64");
        type("#generate [name=steps]", "1000");
        type("#generate [name=checkpointEvery]", "0");
        browser.findElement(By.cssSelector("#generate button[type=submit]")).click();
        waitForStatus("running");
        String id = browser.findElement(By.id("job-title")).getText().split(" ")[1];
        By row = By.cssSelector("#job-rows tr[data-job='" + id + "']");
        wait.until(d -> {
            d.findElement(row).findElement(By.cssSelector("button.cancel")).click();
            return true;
        });

        wait.until(d -> d.findElement(row).findElement(By.cssSelector(".job-status")).getText().equals("cancelled"));
        waitForStatus("cancelled");
        wait.until(d -> d.findElement(row).findElements(By.cssSelector("button.cancel")).isEmpty());
        screenshot("cancelled");
    }

    @Test
    @Order(4)
    @DisplayName("rate-distortion of uploaded PNGs: three curves and the NLL; hovering shows t, rate and RMSE")
    void rateDistortion() throws Exception {
        useKey(KEY);
        tab("rate-distortion");
        browser.findElement(By.cssSelector("#rate-distortion [name=source][value=upload]")).click();
        browser.findElement(By.cssSelector("#rate-distortion [name=images]")).sendKeys(png(60) + "\n" + png(200));
        type("#rate-distortion [name=timesteps]", "1000, 700, 400, 100, 1");
        browser.findElement(By.cssSelector("#rate-distortion button[type=submit]")).click();

        waitForStatus("succeeded");
        wait.until(d -> d.findElements(By.cssSelector("#rd-chart svg")).size() == 3);
        assertTrue(browser.findElement(By.id("nll")).getText().matches("NLL \\d+\\.\\d+ bits/dim over 2 images .*"));
        assertEquals(5, ((Number) ((JavascriptExecutor) browser).executeScript("return document.querySelector("
                + "'#rd-chart polyline').getAttribute('points').split(' ').length")).intValue());
        new Actions(browser).moveToElement(browser.findElements(By.cssSelector("#rd-chart svg")).get(1)).perform();
        WebElement tip = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("#rd-chart .tip")));
        assertTrue(tip.getText().matches("t = \\d+ · rate \\d+\\.\\d+ bits/dim · RMSE \\d+\\.\\d+"), tip.getText());
        screenshot("rate-distortion");
    }

    @Test
    @Order(5)
    @DisplayName("progressive decoding: test images can be picked from a strip; an uploaded PNG's grid is shown")
    void progressive() throws Exception {
        useKey(KEY);
        tab("progressive");
        By fifth = By.cssSelector("#progressive .thumbs img[data-index='5']");
        wait.until(ExpectedConditions.elementToBeClickable(fifth)).click();
        assertEquals("0, 1, 2, 5", browser.findElement(By.cssSelector("#progressive [name=indices]"))
                .getDomProperty("value"), "a test image picked in the strip joins the indices");
        assertTrue(browser.findElement(fifth).getDomAttribute("title").startsWith("test image 5: "));
        browser.findElement(By.cssSelector("#progressive [name=source][value=upload]")).click();
        browser.findElement(By.cssSelector("#progressive [name=images]")).sendKeys(png(120));
        type("#progressive [name=timesteps]", "1000, 500, 0");
        type("#progressive [name=samplesPerTimestep]", "2");
        browser.findElement(By.cssSelector("#progressive button[type=submit]")).click();

        waitForStatus("succeeded");
        wait.until(d -> loaded("#images img"));
        String caption = browser.findElement(By.cssSelector("#images figcaption")).getText();
        assertTrue(caption.startsWith("progressive/000.png: one row per t (1000, 500, 0)"), caption);
        screenshot("progressive");
    }

    private static void useKey(String key) {
        type("#key", key);
        browser.findElement(By.cssSelector("#key-form button")).click();
        wait.until(d -> d.findElement(By.id("key-state")).getText().equals("connected")
                || !errorOf("header", "key").isEmpty());
    }

    private static void tab(String name) {
        browser.findElement(By.cssSelector("#tabs [data-tab='" + name + "']")).click();
    }

    private static void type(String css, String text) {
        WebElement input = browser.findElement(By.cssSelector(css));
        input.clear();
        input.sendKeys(text);
    }

    /** The error text shown beside the field named {@code field} inside {@code scope}. */
    private static String errorOf(String scope, String field) {
        return browser.findElement(By.cssSelector(scope + " [data-field='" + field + "'] > .err")).getText();
    }

    private static void waitForStatus(String status) {
        wait.until(ExpectedConditions.textToBe(By.id("job-status"), status));
    }

    /** Whether every image matching {@code css} exists and has loaded. */
    private static boolean loaded(String css) {
        return (Boolean) ((JavascriptExecutor) browser).executeScript("const imgs = [...document.querySelectorAll("
                + "arguments[0])]; return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0)", css);
    }

    /** An 8×8 PNG file of one gray level, for the tiny model. */
    private static String png(int gray) throws Exception {
        byte[] pixels = new byte[TinyModel.SIZE * TinyModel.SIZE];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i % 3 == 0 ? gray : 255 - gray);
        }
        Path file = dir.resolve("gray-" + gray + ".png");
        Files.write(file, Png.encode(new Uint8Image(TinyModel.SIZE, TinyModel.SIZE, 1, pixels)));
        return file.toAbsolutePath().toString();
    }

    private static void screenshot(String name) {
        try {
            Files.move(((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath(),
                    SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
